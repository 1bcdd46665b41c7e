/**
 * One client request proxied to one upstream endpoint, as an undici dispatch handler.
 *
 * Bodies stream both ways with backpressure and are never buffered whole: the client's
 * request stream is undici's request body, and each upstream chunk is written to the
 * client response; when the client socket is full, undici pauses the upstream socket
 * until `drain`. Failure rules:
 *   - before response headers: a JSON error (504 for timeouts, 502 otherwise);
 *   - after headers were sent: the client connection is destroyed, so a truncated body
 *     can never look like a complete response;
 *   - the client going away aborts the upstream request (and frees its connection).
 * The legacy handler interface is used on purpose: it is undici's native one, so no
 * wrapper object is allocated per request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayError, UpstreamConnectError, UpstreamTimeoutError } from '../../common/index.js';
import { clientResponseHeaders, type ResponseHeaderHook } from './forward-headers.js';
import type { UpstreamEndpoint } from './upstream-service.js';

/** How the exchange ended, for the access log. */
export interface ExchangeOutcome {
  /** Status sent to the client; 499 when the client went away first (nginx's convention). */
  readonly status: number;
  /** Response body bytes sent to the client. */
  readonly bytes: number;
  /** Error code when the gateway (not the upstream) produced the outcome. */
  readonly errorCode: string | null;
}

/** What the exchange needs besides the request and response. */
export interface ExchangeOptions {
  readonly endpoint: UpstreamEndpoint;
  readonly requestId: string;
  readonly via: string;
  /** Headers the gateway adds to the client response (rate-limit state), or null. */
  readonly extraHeaders: Record<string, string> | null;
  /** The route's security/CORS response header policy, or null. */
  readonly responseHeaders?: ResponseHeaderHook | null;
  /** Ask the client to close the connection after this response (draining). */
  readonly closeConnection: () => boolean;
  /** Write a JSON error response (headers not yet sent); returns body bytes. */
  readonly sendError: (res: ServerResponse, err: GatewayError) => number;
  readonly done: (outcome: ExchangeOutcome) => void;
}

const TIMEOUT_PHASES: Record<string, 'connect' | 'headers' | 'body'> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'body',
};

/** Map an undici/network error to the gateway error a client sees. */
export function upstreamError(err: Error): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string }).code ?? '';
  const phase = TIMEOUT_PHASES[code];
  if (phase !== undefined) return new UpstreamTimeoutError(phase, err);
  return new UpstreamConnectError(`upstream request failed (${code || err.message})`, err);
}

/** Dispatch handler streaming one upstream response into one client response. */
export class ProxyExchange implements Dispatcher.DispatchHandler {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #opts: ExchangeOptions;
  #abort: ((err?: Error) => void) | null = null;
  #clientGone = false;
  #settled = false;
  #status = 0;
  #bytes = 0;
  #resume: (() => void) | null = null;
  #queued: boolean;
  #queueTimer: NodeJS.Timeout | null = null;
  #expired = false;
  readonly #onDrain = () => this.#resume?.();
  readonly #onClose = () => {
    if (this.#settled || this.#res.writableFinished) return;
    this.#clientGone = true;
    this.#abort?.(new Error('client disconnected'));
  };

  constructor(req: IncomingMessage, res: ServerResponse, opts: ExchangeOptions) {
    this.#req = req;
    this.#res = res;
    this.#opts = opts;
    res.on('close', this.#onClose); // removed in #finish; `once` would allocate a wrapper
    // A pipelined request queued behind another never sees its `res` close when the
    // client leaves; for those (only), the socket's close is the signal.
    this.#queued = (req.socket as { _httpMessage?: unknown })._httpMessage !== res;
    if (this.#queued) req.socket.once('close', this.#onClose);
    opts.endpoint.active++;
  }

  /**
   * The pool was saturated when this request was dispatched, so it may wait in undici's
   * queue, where no undici timeout runs yet. Bound that wait: after `ms` without a
   * connection the client gets a 504 and the request is dropped when its turn comes.
   */
  armQueueTimeout(ms: number): void {
    if (this.#abort !== null || this.#settled) return;
    this.#queueTimer = setTimeout(() => {
      this.#queueTimer = null;
      if (this.#abort !== null || this.#settled) return;
      this.#expired = true;
      const err = new UpstreamTimeoutError('connect', new Error(`no pooled connection became free within ${ms} ms`));
      this.#bytes = this.#opts.sendError(this.#res, err);
      this.#status = err.status;
      if (!this.#req.complete) this.#req.resume();
      this.#finish(err.code);
    }, ms);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#queueTimer !== null) (clearTimeout(this.#queueTimer), (this.#queueTimer = null));
    if (this.#clientGone || this.#expired) abort(new Error(this.#expired ? 'queue timeout' : 'client disconnected'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: Node answers 100-continue itself; drop others
    this.#status = statusCode;
    this.#resume = resume;
    const headers = clientResponseHeaders(rawHeaders, this.#opts.requestId, this.#opts.via, this.#opts.responseHeaders ?? null);
    const extra = this.#opts.extraHeaders;
    if (extra !== null) {
      // The gateway's rate-limit fields replace any the upstream sent.
      for (let i = headers.length - 2; i >= 0; i -= 2) {
        if (headers[i]!.toLowerCase() in extra) headers.splice(i, 2);
      }
      for (const name in extra) headers.push(name, extra[name]!);
    }
    // Draining: Node then sends `Connection: close` and closes the socket after this response.
    if (this.#opts.closeConnection()) this.#res.shouldKeepAlive = false;
    this.#res.writeHead(statusCode, statusText, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    const ok = this.#res.write(chunk);
    if (!ok) this.#res.once('drain', this.#onDrain);
    return ok;
  }

  onComplete(): void {
    this.#res.end();
    this.#finish(null);
  }

  onError(err: Error): void {
    if (this.#settled) return;
    if (this.#clientGone) {
      this.#finish('GW_CLIENT_CLOSED', 499);
      return;
    }
    const gwErr = upstreamError(err);
    if (!this.#res.headersSent) {
      this.#bytes = this.#opts.sendError(this.#res, gwErr);
      this.#status = gwErr.status;
    } else {
      // Too late for an error response: cut the connection so the client sees a failure.
      this.#res.destroy(err);
    }
    // A request body the upstream never consumed must not be left half-read.
    if (!this.#req.complete) this.#req.resume();
    this.#finish(gwErr.code);
  }

  #finish(errorCode: string | null, status = this.#status): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#queueTimer !== null) (clearTimeout(this.#queueTimer), (this.#queueTimer = null));
    this.#opts.endpoint.active--;
    this.#res.off('close', this.#onClose);
    if (this.#queued) this.#req.socket.off('close', this.#onClose);
    this.#opts.done({ status, bytes: this.#bytes, errorCode });
  }
}
