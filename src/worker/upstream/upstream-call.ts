/**
 * One client request proxied to a service: one or more tries (undici dispatches), each
 * to an endpoint the balancer picks among those the breaker admits, streamed back to the
 * client response with backpressure and never buffered whole.
 *
 * Retry rules (each must hold for another try):
 *   - the request is retryable: an idempotent method, or a route marked `retryable`
 *     (a connect failure is retryable for any method: nothing reached the instance);
 *   - nothing of the response went to the client yet (a try's 5xx that will be retried is
 *     read and discarded, never forwarded), and no byte of the request body was read
 *     (a streamed body cannot be replayed);
 *   - the failure is one the service retries on (`retry.on`), attempts remain, the
 *     deadline (`retry.totalTimeoutMs`) leaves time, fewer than `limits.maxRetries` retries
 *     are in flight, and the retry budget admits it.
 * The next try waits a full-jitter backoff, or the upstream's `Retry-After` when it sent
 * one (a longer `Retry-After` than `backoff.maxMs` is not waited for: the response goes
 * to the client), and goes to another instance when one is available.
 *
 * Failure rules: before response headers reached the client, a JSON error (504 for
 * timeouts, 502 otherwise); after, the client connection is reset so a truncated body
 * never looks complete; a client that goes away aborts the try in flight.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  GatewayError,
  NoHealthyUpstreamError,
  UpstreamOverloadedError,
  UpstreamTimeoutError,
} from '../../common/index.js';
import type { RetryCondition } from '../../ipc/index.js';
import { fullJitterBackoff, parseRetryAfter } from './backoff.js';
import { failureDetail, retryConditionOf, unrelayableCoding, upstreamError } from './upstream-error.js';
import { UpstreamTry } from './upstream-try.js';
import { asksForWebSocket, joinTunnel, webSocketAccept, type HandshakeWait } from './tunnel.js';
import type { HeaderNames } from './header-names.js';
import type { TryResult } from './outlier-detector.js';
import { dropFields, type ResponseHeaderHook } from './forward-headers.js';
import { statusClass, type RequestTrace } from '../../telemetry/index.js';
import type { UpstreamEndpoint, UpstreamService } from './upstream-service.js';

/** How the request ended, for the access log. */
export interface ExchangeOutcome {
  /** Status sent to the client; 499 when the client went away first (nginx's convention). */
  readonly status: number;
  /** Response body bytes sent to the client. */
  readonly bytes: number;
  /** Error code when the gateway (not the upstream) produced the outcome. */
  readonly errorCode: string | null;
  /** What the network or undici said about an upstream failure (logged, never sent to the client). */
  readonly detail?: string | null;
}

/** Per-worker hooks shared by every call (metrics, breaker reports). */
export interface CallHooks {
  /** One try ended: `outcome` is a status class or an error code. */
  tryDone(service: UpstreamService, outcome: string, seconds: number): void;
  /** A retry was considered: `retried`, or why not (`budget`, `limit`). */
  retry(service: UpstreamService, result: 'retried' | 'budget' | 'limit'): void;
  /** The local breaker ejected or recovered an endpoint. */
  outlier(service: UpstreamService, endpoint: UpstreamEndpoint, event: 'eject' | 'recover'): void;
}

/** What a call needs besides the request and response. */
export interface CallOptions {
  readonly service: UpstreamService;
  /** Idempotent method or route marked retryable. */
  readonly retryable: boolean;
  readonly method: string;
  /** Upstream path and query, without the endpoint's base path. */
  readonly path: string;
  readonly headers: string[];
  readonly body: Readable | null;
  readonly requestId: string;
  readonly via: string;
  /** Headers the gateway adds to the client response (rate-limit state), or null. */
  readonly extraHeaders: Record<string, string> | null;
  /** The route's response-header policy (security headers, CORS), or null. */
  readonly responseHeaders?: ResponseHeaderHook | null;
  /** Ask the client to close the connection after this response (draining). */
  readonly closeConnection: () => boolean;
  /** Write a JSON error response (headers not yet sent); returns body bytes. */
  readonly sendError: (res: ServerResponse, err: GatewayError) => number;
  /** The call ended; `call.lastEndpoint` and `call.tries` tell where it went. */
  readonly done: (outcome: ExchangeOutcome, call: UpstreamCall) => void;
  readonly hooks: CallHooks;
  /** The worker's decoded upstream header names. */
  readonly headerNames: HeaderNames;
  /** The request's trace when tracing is on: one client span per try. */
  readonly trace?: RequestTrace | null;
  /**
   * A WebSocket handshake to tunnel (the route allows it): the bytes the client sent after
   * its handshake, passed upstream once the upstream answered 101. Null: a plain request.
   */
  readonly tunnel?: HandshakeWait | null;
}

/** The lifetime of one proxied request across its tries. */
export class UpstreamCall {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly opts: CallOptions;
  readonly #started = Date.now();
  /** Endpoints tried so far; allocated on the first retry only (the hot path tries once). */
  #tried: UpstreamEndpoint[] | null = null;
  #first: UpstreamEndpoint | null = null;
  #tries = 0;
  #current: UpstreamTry | null = null;
  /** A `limits.maxRetries` slot is held from admitting a retry until that retry's try ends. */
  #slotHeld = false;
  #slotOwner: UpstreamTry | null = null;
  #backoffTimer: NodeJS.Timeout | null = null;
  #clientGone = false;
  /** The upstream answered 101: the sockets are joined, and the tunnel decides when this call ends. */
  #tunneled = false;
  #admitted = false;
  #settled = false;
  #status = 0;
  #bytes = 0;
  #detail: string | null = null;
  #resume: (() => void) | null = null;
  /**
   * The client connection, kept: `req.socket` is not to be trusted later (undici nulls it
   * when it is done with a request body, Node when the socket goes).
   */
  readonly #socket: Socket;
  /** A pipelined request queued behind another (its socket's close is the signal). */
  readonly #queued: boolean;
  readonly #onClose = () => {
    if (this.#settled || this.#tunneled || this.res.writableFinished) return;
    this.#clientGone = true;
    if (this.#current !== null) this.#current.abort(new Error('client disconnected'));
    else this.#finish('GW_CLIENT_CLOSED', 499);
  };

  constructor(req: IncomingMessage, res: ServerResponse, opts: CallOptions) {
    this.req = req;
    this.res = res;
    this.opts = opts;
    res.on('close', this.#onClose); // `once` would allocate a wrapper
    // A pipelined request queued behind another never sees its `res` close when the
    // client leaves; for those (only), the socket's close is the signal.
    const socket = req.socket;
    this.#socket = socket;
    this.#queued = queuedBehindAnother(socket, res);
    if (this.#queued) socket.once('close', this.#onClose);
  }

  /** The request body stream failed (413, malformed, client gone): fail the try in flight, queued or not. */
  bodyFailed(err: Error): void {
    this.#current?.abort(err);
  }

  /** Whether the client went away. */
  get clientGone(): boolean {
    return this.#clientGone;
  }

  /** Tries sent so far. */
  get tries(): number {
    return this.#tries;
  }

  /** The endpoint of the latest try (null: none was sent). */
  get lastEndpoint(): UpstreamEndpoint | null {
    return this.#tried === null ? this.#first : (this.#tried[this.#tried.length - 1] ?? null);
  }

  /** Admit the request against the service's limits and send the first try. */
  start(): void {
    const { service } = this.opts;
    const max = service.limits.maxRequests;
    if (max > 0 && service.active >= max) {
      this.#fail(new UpstreamOverloadedError(service.name, 'maxRequests', max));
      return;
    }
    if (this.opts.tunnel != null && tunnelsFull(service)) {
      this.#fail(new UpstreamOverloadedError(service.name, 'maxTunnels', service.limits.maxTunnels));
      return;
    }
    service.active++;
    this.#admitted = true;
    service.budget.recordRequest(this.#started);
    this.#try();
  }

  #try(): void {
    this.#backoffTimer = null;
    const { service } = this.opts;
    // The first try is sent in the tick the call started in: its clock reading will do.
    const now = this.#tries === 0 ? this.#started : Date.now();
    if (this.#tries === 1) this.#tried = [this.#first!];
    const endpoint = service.pick(now, this.#tried);
    if (endpoint === null) {
      this.#fail(new NoHealthyUpstreamError(service.name));
      return;
    }
    const maxPending = service.limits.maxPendingRequests;
    if (maxPending > 0 && service.pending >= maxPending) {
      this.#fail(new UpstreamOverloadedError(service.name, 'maxPendingRequests', maxPending));
      return;
    }
    this.#tries++;
    if (this.#tried === null) this.#first = endpoint;
    else this.#tried.push(endpoint);
    const t = new UpstreamTry(this, endpoint);
    // One span per try; its traceparent replaces the caller's (retries show as siblings).
    const trace = this.opts.trace;
    if (trace !== null && trace !== undefined) {
      t.span = trace.startTry({ method: this.opts.method, authority: endpoint.authority, target: this.opts.path, service: service.name });
    }
    t.probe = service.detector.tryStarted(endpoint.outlier, now);
    if (this.#slotHeld && this.#slotOwner === null) this.#slotOwner = t;
    this.#current = t;
    const retry = service.retry;
    let headersTimeout = retry.perTryTimeoutMs > 0 ? retry.perTryTimeoutMs : service.timeouts.headersMs;
    if (retry.totalTimeoutMs > 0) headersTimeout = Math.max(1, Math.min(headersTimeout, this.#started + retry.totalTimeoutMs - now));
    t.deadlines(service.pipelined ? 0 : headersTimeout, service.timeouts.bodyMs);
    const accepted = endpoint.pool.dispatch(
      {
        path: endpoint.basePath + this.opts.path,
        method: this.opts.method,
        headers: t.span === null ? this.opts.headers : t.span.withHeaders(this.opts.headers),
        body: this.opts.body as never,
        headersTimeout,
        bodyTimeout: service.timeouts.bodyMs,
        upgrade: this.opts.tunnel == null ? null : 'websocket',
      },
      t,
    );
    // false: the pool has no free connection now, so this try may queue (bounded).
    if (!accepted) t.armQueueTimeout(service.timeouts.connectMs);
  }

  /** A try's response headers arrived: retry (discarding it), or start the client response. */
  headers(t: UpstreamTry, status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): 'retry' | 'stream' {
    const headers = t.clientHeaders(rawHeaders, status);
    if (headers === null) {
      // A transfer coding Node cannot pass on: fail the try (502) rather than relay a body
      // the client would misread; for the breaker, an instance that answers so is failing.
      this.#record(t, 'gateway-failure');
      t.abort(unrelayableCoding(rawHeaders, this.opts.headerNames));
      return 'stream';
    }
    this.#record(t, status >= 500 ? (status === 502 || status === 503 || status === 504 ? 'gateway-failure' : '5xx') : 'success');
    if (status >= 500 && this.#retryOn(status, true)) {
      const wait = this.#retryAfter(rawHeaders);
      if (wait !== -1 && this.#admitRetry()) {
        t.retryDelay = wait;
        return 'retry';
      }
    }
    this.#status = status;
    this.#resume = resume;
    const res = this.res;
    const extra = this.opts.extraHeaders;
    // RFC 9110 §8.6: no Content-Length on a 204 (some upstreams send one anyway).
    if (status === 204) dropFields(headers, (lower) => lower === 'content-length');
    if (extra !== null) {
      // The gateway's rate-limit fields replace any the upstream sent.
      dropFields(headers, (lower) => lower in extra);
      for (const name in extra) headers.push(name, extra[name]!);
    }
    // Draining: Node then sends `Connection: close` and closes the socket after this response.
    if (this.opts.closeConnection()) res.shouldKeepAlive = false;
    res.writeHead(status, statusText, headers);
    return 'stream';
  }

  /**
   * The upstream answered a WebSocket handshake with 101: send the client the upstream's
   * 101 (hop-by-hop fields replaced, Via and the request id added) and join the sockets.
   * The request's admission ends here (`limits.maxRequests` counts requests, not open
   * tunnels); the endpoint stays busy for least-connections until the tunnel closes.
   */
  upgraded(t: UpstreamTry, status: number, rawHeaders: Buffer[], upstream: Socket, seconds: number): void {
    const client = this.#socket;
    if (this.#settled || this.#clientGone || client.destroyed || this.opts.tunnel == null) {
      upstream.destroy();
      this.#tryEnded(t, 499, seconds, 'GW_CLIENT_CLOSED');
      this.#finish('GW_CLIENT_CLOSED', 499);
      return;
    }
    // Only a real WebSocket answer opens a tunnel: a 101 to another protocol, or one whose
    // accept value does not match the client's key, is not a WebSocket server speaking
    // (and a tunnel to it would let the client send it raw requests past the gateway).
    const names = this.opts.headerNames;
    const protocol = fieldOf(rawHeaders, names, 'upgrade');
    const key = this.req.headers['sec-websocket-key'];
    const accept = fieldOf(rawHeaders, names, 'sec-websocket-accept');
    const invalid = !asksForWebSocket(protocol ?? undefined)
      ? `switched to ${JSON.stringify(protocol ?? '')}, not websocket`
      : typeof key === 'string' && accept !== webSocketAccept(key)
        ? 'Sec-WebSocket-Accept does not match the Sec-WebSocket-Key'
        : null;
    if (invalid !== null) {
      upstream.destroy();
      this.#record(t, 'gateway-failure');
      this.#tryEnded(t, 502, seconds, 'GW_UPSTREAM_UNAVAILABLE');
      this.#fail(upstreamError(Object.assign(new Error(`invalid 101 from upstream: ${invalid}`), { code: 'INVALID_UPGRADE' })));
      return;
    }
    // maxTunnels is checked at admission too, but handshakes in flight are not tunnels yet.
    const { service } = this.opts;
    if (tunnelsFull(service)) {
      upstream.destroy();
      this.#tryEnded(t, 503, seconds, 'GW_UPSTREAM_OVERLOADED');
      this.#fail(new UpstreamOverloadedError(service.name, 'maxTunnels', service.limits.maxTunnels));
      return;
    }
    let headers = t.clientHeaders(rawHeaders, status);
    if (headers === null) headers = [];
    // Nothing follows a 101 as a body (RFC 9110 §15.2.2).
    dropFields(headers, (lower) => lower === 'content-length');
    const extra = this.opts.extraHeaders;
    if (extra !== null) {
      dropFields(headers, (lower) => lower in extra);
      for (const name in extra) headers.push(name, extra[name]!);
    }
    this.#record(t, 'success');
    this.#tryEnded(t, status, seconds, null);
    this.#status = status;
    this.#tunneled = true;
    if (this.#admitted) (this.#admitted = false), service.active--;
    this.#releaseSlot();
    let opening = `HTTP/1.1 ${status} Switching Protocols\r\n`;
    for (let i = 0; i < headers.length; i += 2) opening += `${headers[i]}: ${headers[i + 1]}\r\n`;
    opening += `connection: Upgrade\r\nupgrade: ${protocol}\r\n\r\n`;
    // The response object served the handshake; from here the socket is the tunnel's.
    this.res.detachSocket(client);
    const endpoint = t.endpoint;
    endpoint.active++;
    service.tunnels++;
    joinTunnel(client, upstream, opening, this.opts.tunnel.take(), service.timeouts.tunnelIdleMs, (end) => {
      endpoint.active--;
      service.tunnels--;
      this.#bytes = end.down;
      let code: string | null = null;
      if (end.idle) (code = 'GW_TUNNEL_IDLE'), (this.#detail = `no data either way for ${service.timeouts.tunnelIdleMs} ms`);
      else if (end.failed === 'client') (code = 'GW_CLIENT_CLOSED'), (this.#detail = `client connection failed: ${end.error}`);
      else if (end.failed === 'upstream') (code = 'GW_UPSTREAM_UNAVAILABLE'), (this.#detail = `upstream connection failed: ${end.error}`);
      this.#finish(code, status);
    });
  }

  /** A chunk of the response being streamed; false asks undici to pause. */
  data(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    const ok = this.res.write(chunk);
    // undici's resume takes no arguments and 'drain' passes none: no wrapper needed.
    if (!ok) this.res.once('drain', this.#resume!);
    return ok;
  }

  /** The streamed response is complete. */
  complete(t: UpstreamTry, seconds: number): void {
    this.#tryEnded(t, this.#status, seconds, null);
    this.res.end();
    this.#finish(null);
  }

  /** A discarded response ended (or broke): send the retry after its delay. */
  retryLater(t: UpstreamTry, seconds: number, status: number): void {
    this.#tryEnded(t, status, seconds, null);
    this.#schedule(t.retryDelay);
  }

  /** The pool had no connection for this try in time. */
  queueExpired(t: UpstreamTry, ms: number): void {
    this.#tryEnded(t, 0, 0, 'GW_UPSTREAM_TIMEOUT');
    this.#fail(new UpstreamTimeoutError('connect', new Error(`no pooled connection became free within ${ms} ms`)));
  }

  /** A try failed with a network error, a timeout or a body error. */
  error(t: UpstreamTry, err: Error, seconds: number): void {
    if (this.#settled) return;
    // The socket may be destroyed (the drain deadline) before its 'close' reaches us: an
    // error response then would be counted as sent, and the client never got it.
    if (this.#clientGone || this.#socket.destroyed) {
      this.#tryEnded(t, 499, seconds, 'GW_CLIENT_CLOSED');
      this.#finish('GW_CLIENT_CLOSED', 499);
      return;
    }
    const gwErr = upstreamError(err);
    this.#tryEnded(t, gwErr.status, seconds, gwErr.code);
    this.#detail = failureDetail(gwErr);
    if (this.res.headersSent) {
      // Too late for an error response: cut the connection so the client sees a failure.
      // With a reset, not a FIN: a response without a length (close-delimited, as an
      // HTTP/1.0 client gets it) would otherwise end normally and look complete.
      this.res.socket?.resetAndDestroy();
      this.res.destroy(err);
      this.#finish(gwErr.code, this.#status);
      return;
    }
    const condition = retryConditionOf(err);
    if (condition !== null) this.#record(t, 'gateway-failure');
    if (condition !== null && this.#retryOn(condition, t.sent) && this.#admitRetry()) {
      this.#schedule(-2);
      return;
    }
    this.#fail(gwErr);
  }

  /** Pending-queue accounting of the service (a try waiting for a pooled connection). */
  pendingDelta(d: 1 | -1): void {
    this.opts.service.pending += d;
  }

  #record(t: UpstreamTry, result: TryResult): void {
    t.recorded = true;
    const { service } = this.opts;
    const event = service.detector.record(t.endpoint.outlier, result, Date.now(), t.probe);
    if (event === null) return;
    service.refreshImpaired();
    this.opts.hooks.outlier(service, t.endpoint, event);
  }

  #tryEnded(t: UpstreamTry, status: number, seconds: number, errorCode: string | null): void {
    if (this.#current === t) this.#current = null;
    t.endpoint.active--;
    if (t.probe && !t.recorded) this.opts.service.detector.probeAbandoned(t.endpoint.outlier);
    if (this.#slotOwner === t) this.#releaseSlot();
    t.span?.end(status, errorCode);
    this.opts.hooks.tryDone(this.opts.service, errorCode ?? statusClass(status), seconds);
  }

  /** Whether a failure meeting `condition` may be retried; `sent`: the try's request was written. */
  #retryOn(condition: RetryCondition, sent: boolean): boolean {
    const { service, retryable, body } = this.opts;
    // A connect failure is retried for any method: the request never reached the instance.
    // Decided by where the try got, not by the error code alone (EHOSTUNREACH can also
    // come from a connection that was already carrying the request).
    const unsent = condition === 'connect-failure' && !sent;
    if ((!retryable && !unsent) || this.#tries > service.retry.attempts) return false;
    // A request body that started streaming upstream (or that undici destroyed) cannot be sent again.
    // The body is the request itself or the size-limit stream it is piped through (chunked):
    // either way, unread by undici and not destroyed means it can still be sent whole (a
    // fully piped request ends and is destroyed while the stream still holds its bytes; a
    // client that left destroys the stream too).
    if (body !== null && (body.readableDidRead || body.destroyed)) return false;
    return service.retry.on.includes(condition);
  }

  /** -1 when the upstream asks for a longer pause than we hold a client; else the wait (or -2: backoff). */
  #retryAfter(rawHeaders: Buffer[]): number {
    const value = fieldOf(rawHeaders, this.opts.headerNames, 'retry-after');
    const ms = value === null ? null : parseRetryAfter(value, Date.now());
    if (ms === null) return -2;
    return ms > this.opts.service.retry.backoff.maxMs ? -1 : ms;
  }

  #admitRetry(): boolean {
    const { service, hooks } = this.opts;
    const now = Date.now();
    const total = service.retry.totalTimeoutMs;
    if (total > 0 && now - this.#started >= total) return false;
    // A call has at most one retry in flight: a retry of a retry keeps the slot it holds.
    const held = this.#slotHeld;
    if (!held && service.retriesActive >= service.limits.maxRetries) {
      hooks.retry(service, 'limit');
      return false;
    }
    if (!service.budget.tryRetry(now)) {
      hooks.retry(service, 'budget');
      return false;
    }
    hooks.retry(service, 'retried');
    // Hold the slot now, not when the retry is sent: concurrent failures decide before
    // any of them has finished discarding its response.
    if (!held) {
      this.#slotHeld = true;
      service.retriesActive++;
    }
    this.#slotOwner = null;
    return true;
  }

  #releaseSlot(): void {
    if (!this.#slotHeld) return;
    this.#slotHeld = false;
    this.#slotOwner = null;
    this.opts.service.retriesActive--;
  }

  /** Send the next try after `delay` ms (-2: the computed backoff). */
  #schedule(delay: number): void {
    const { service } = this.opts;
    if (this.#clientGone) {
      this.#finish('GW_CLIENT_CLOSED', 499);
      return;
    }
    const backoff = service.retry.backoff;
    const wait = delay >= 0 ? delay : fullJitterBackoff(this.#tries - 1, backoff.baseMs, backoff.maxMs);
    const total = service.retry.totalTimeoutMs;
    if (total > 0 && Date.now() + wait - this.#started >= total) {
      // The wait would outlive the deadline: fail now with what the last try proved.
      this.#fail(new UpstreamTimeoutError('headers', new Error(`retry deadline of ${total} ms reached`)));
      return;
    }
    if (wait === 0) setImmediate(() => this.#afterBackoff());
    else this.#backoffTimer = setTimeout(() => this.#afterBackoff(), wait);
  }

  #afterBackoff(): void {
    this.#backoffTimer = null;
    if (this.#settled) return;
    if (this.#clientGone) {
      this.#finish('GW_CLIENT_CLOSED', 499);
      return;
    }
    this.#try();
  }

  #fail(err: GatewayError): void {
    this.#detail = failureDetail(err) ?? this.#detail;
    this.#bytes = this.opts.sendError(this.res, err);
    this.#status = err.status;
    // A request body the upstream never consumed must not be left half-read.
    if (!this.req.complete) this.req.resume();
    this.#finish(err.code);
  }

  #finish(errorCode: string | null, status = this.#status): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#backoffTimer !== null) (clearTimeout(this.#backoffTimer), (this.#backoffTimer = null));
    this.#releaseSlot();
    if (this.#admitted) this.opts.service.active--;
    // The response's own 'close' listener stays (it returns early once settled, and goes
    // with the response); the socket outlives this request, so its listener must go.
    if (this.#queued) this.#socket.off('close', this.#onClose);
    this.opts.done({ status, bytes: this.#bytes, errorCode, detail: this.#detail }, this);
  }
}

/** Whether `service` has as many open tunnels as `limits.maxTunnels` allows (0: no limit). */
function tunnelsFull(service: UpstreamService): boolean {
  const max = service.limits.maxTunnels;
  return max > 0 && service.tunnels >= max;
}

/** The first value of the field `lower` in `rawHeaders`, or null. */
function fieldOf(rawHeaders: Buffer[], names: HeaderNames, lower: string): string | null {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // Field names are ASCII tokens: a name of another length is never looked up.
    if (name.length === lower.length && names.of(name).lower === lower) return rawHeaders[i + 1]!.toString('latin1');
  }
  return null;
}

/**
 * The response Node is writing on `socket` now, or null: Node assigns a socket to one
 * response at a time (HTTP pipelining queues the others).
 */
export function responseInProgress(socket: Socket | null): ServerResponse | null {
  return (socket as { _httpMessage?: ServerResponse | null } | null)?._httpMessage ?? null;
}

/** Whether `res` waits behind another response on its socket (HTTP pipelining). */
export function queuedBehindAnother(socket: Socket | null, res: ServerResponse): boolean {
  return responseInProgress(socket) !== res;
}
