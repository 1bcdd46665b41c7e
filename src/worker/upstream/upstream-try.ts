/**
 * One try of an UpstreamCall: the undici dispatch handler for one request to one
 * endpoint. It forwards undici's events to its call, which owns the client response;
 * a try whose response will be retried reads and discards that response instead.
 * The legacy handler interface is used on purpose: it is undici's native one, so no
 * wrapper object is allocated per request.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errors, type Dispatcher } from 'undici';
import { clientResponseHeaders } from './forward-headers.js';
import type { UpstreamCall } from './upstream-call.js';
import type { UpstreamEndpoint } from './upstream-service.js';
import type { UpstreamTry as TraceSpanOfTry } from '../../telemetry/index.js';

/**
 * Deadlines shorter than this are kept by the try's own timer. undici runs its headers and
 * body timeouts on "fast timers" that tick every ~500 ms and never fire before ~1 s, so a
 * 300 ms per-try timeout would fire at 1 s; for longer deadlines that lateness is under
 * 10 % and undici's timers cost nothing per request.
 */
export const PRECISE_BELOW_MS = 10_000;

const noop = () => {};

/** Dispatch handler of one try. */
export class UpstreamTry implements Dispatcher.DispatchHandler {
  readonly endpoint: UpstreamEndpoint;
  /** Wait before the retry this try's response asked for (-2: computed backoff). */
  retryDelay = -2;
  /** This try is the half-open probe of its endpoint. */
  probe = false;
  /** Its outcome was counted by the outlier detector. */
  recorded = false;
  /** Its client span (tracing on), ended with the try. */
  span: TraceSpanOfTry | null = null;
  readonly #call: UpstreamCall;
  readonly #started = performance.now();
  #abort: ((err?: Error) => void) | null = null;
  #abortWanted: Error | null = null;
  #discarding = false;
  #discarded = 0;
  #status = 0;
  #ended = false;
  #queueTimer: NodeJS.Timeout | null = null;
  #pending = false;
  /** Headers deadline and body idle timeout kept here (0: left to undici). */
  #headersMs = 0;
  #bodyMs = 0;
  #deadline: NodeJS.Timeout | null = null;

  constructor(call: UpstreamCall, endpoint: UpstreamEndpoint) {
    this.#call = call;
    this.endpoint = endpoint;
    endpoint.active++;
  }

  /** Abort this try: through undici once it has a connection, else end it now. */
  abort(err: Error): void {
    if (this.#ended) return;
    if (this.#abort !== null) this.#abort(err);
    else {
      // Queued, or its connection still being opened: nothing calls us until then, so the
      // client gets its answer now; when the connection comes, onConnect drops the request.
      this.#abortWanted = err;
      this.#end(() => this.#call.error(this, err, this.#seconds()));
    }
  }

  /**
   * The pool was saturated when this try was dispatched, so it may wait in undici's
   * queue, where no undici timeout runs yet. Bound that wait: after `ms` without a
   * connection the client gets a 504 and the request is dropped when its turn comes.
   */
  armQueueTimeout(ms: number): void {
    if (this.#abort !== null || this.#ended) return;
    this.#pending = true;
    this.#call.pendingDelta(1);
    this.#queueTimer = setTimeout(() => {
      this.#queueTimer = null;
      if (this.#abort !== null || this.#ended) return;
      this.#end(() => this.#call.queueExpired(this, ms));
    }, ms);
  }

  /**
   * The try's headers deadline and body idle timeout; the short ones (see PRECISE_BELOW_MS)
   * are kept by this try. The headers deadline runs from when the request was sent, as
   * undici's does (an upload in progress is not the upstream being slow); callers pass 0
   * on pipelined pools, where a request can be sent long before its turn to be answered.
   */
  deadlines(headersMs: number, bodyMs: number): void {
    this.#headersMs = headersMs > 0 && headersMs < PRECISE_BELOW_MS ? headersMs : 0;
    this.#bodyMs = bodyMs > 0 && bodyMs < PRECISE_BELOW_MS ? bodyMs : 0;
  }

  /** Response headers for the client (hop-by-hop stripped, Via and request id set); null: not relayable. */
  clientHeaders(rawHeaders: Buffer[], status: number): string[] | null {
    const o = this.#call.opts;
    // No body follows a HEAD, 204 or 304 (which may carry the coding a GET would have had).
    const bodiless = status === 204 || status === 304 || o.method === 'HEAD';
    return clientResponseHeaders(rawHeaders, o.requestId, o.via, o.responseHeaders ?? null, o.headerNames, bodiless);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    this.#leaveQueue();
    if (this.#ended) abort(new Error('try already ended (queue timeout)'));
    else if (this.#abortWanted !== null || this.#call.clientGone) abort(this.#abortWanted ?? new Error('client disconnected'));
    // undici may send a request again after a pipelined connection it shared was reset;
    // once this try's response began, a second one must never reach the client.
    else if (this.#status !== 0) abort(new Error('request re-sent after its response began'));
  }

  /** The request (and its body) was written: the headers deadline starts, as undici's does. */
  onRequestSent(): void {
    // Not once the response began: an upstream may answer before the upload ends.
    if (this.#ended || this.#headersMs === 0 || this.#status !== 0) return;
    this.#clearDeadline();
    this.#deadline = setTimeout(() => this.abort(new errors.HeadersTimeoutError()), this.#headersMs);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.#ended || statusCode < 200) return true; // 1xx: Node answers 100-continue itself; drop others
    this.#clearDeadline();
    if (this.#bodyMs > 0) this.#deadline = setTimeout(() => this.#bodyIdle(), this.#bodyMs);
    this.#status = statusCode;
    this.#discarding = this.#call.headers(this, statusCode, rawHeaders, resume, statusText) === 'retry';
    return true;
  }

  /** The upstream switched protocols (a WebSocket handshake answered 101): the call joins the sockets. */
  onUpgrade(statusCode: number, rawHeaders: Buffer[], socket: Duplex): void {
    // undici took its listeners off the socket: an error before the tunnel's are on it
    // must not be thrown (the worker would go down with everything in flight).
    socket.on('error', noop);
    if (this.#ended) {
      socket.destroy();
      return;
    }
    this.#end(() => this.#call.upgraded(this, statusCode, rawHeaders, socket as Socket, this.#seconds()));
  }

  onData(chunk: Buffer): boolean {
    if (this.#ended) return true;
    this.#deadline?.refresh();
    if (!this.#discarding) return this.#call.data(chunk);
    this.#discarded += chunk.length;
    // Not worth reading a large error body just to keep the connection: drop it.
    if (this.#discarded > 64 * 1024) this.#abort?.(new Error('discarded response too large'));
    return true;
  }

  onComplete(): void {
    if (this.#ended) return;
    if (this.#discarding) this.#end(() => this.#call.retryLater(this, this.#seconds(), this.#status));
    else this.#end(() => this.#call.complete(this, this.#seconds()));
  }

  onError(err: Error): void {
    if (this.#ended) return;
    // undici 7 (fixed in 8, which needs Node 22) fails a 204 or 304 that carries a
    // Content-Length (RFC 9110 §8.6 allows one on a 304: the length a 200 would have had),
    // because no body follows. Such a response is complete at its headers: relay it. undici
    // still drops that connection, which is right: a stray body could follow on it.
    if (!this.#discarding && (this.#status === 204 || this.#status === 304) && (err as { code?: unknown }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
      this.#end(() => this.#call.complete(this, this.#seconds()));
      return;
    }
    if (this.#discarding) this.#end(() => this.#call.retryLater(this, this.#seconds(), this.#status));
    else this.#end(() => this.#call.error(this, err, this.#seconds()));
  }

  /**
   * The body idle timeout passed. Not while the client is the one not reading (undici's
   * rule too): the idle time starts again when the client has drained what it was sent.
   */
  #bodyIdle(): void {
    if (this.#ended) return;
    if (!this.#discarding && this.#call.res.writableNeedDrain) this.#call.res.once('drain', () => this.#deadline?.refresh());
    else this.abort(new errors.BodyTimeoutError());
  }

  /** Whether undici got as far as writing this try's request (a connection was made). */
  get sent(): boolean {
    return this.#abort !== null;
  }

  #clearDeadline(): void {
    if (this.#deadline !== null) (clearTimeout(this.#deadline), (this.#deadline = null));
  }

  #seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  #leaveQueue(): void {
    if (this.#queueTimer !== null) (clearTimeout(this.#queueTimer), (this.#queueTimer = null));
    if (this.#pending) {
      this.#pending = false;
      this.#call.pendingDelta(-1);
    }
  }

  #end(then: () => void): void {
    this.#ended = true;
    this.#leaveQueue();
    this.#clearDeadline();
    then();
  }
}
