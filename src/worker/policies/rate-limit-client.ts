/**
 * The worker's side of node-wide rate limiting: send the checks to the primary, which
 * owns the buckets, and wait for the verdicts. If the primary does not answer in time
 * the request is let through (fail open) and the caller logs it: a supervision hiccup
 * must not turn into an outage.
 */
import { PROTOCOL_VERSION, type FromWorker, type RateLimitCheck, type RateLimitVerdict } from '../../ipc/index.js';
import { IpcCalls } from '../../ipc/index.js';

/** Verdicts for a request, or null when the primary could not be asked in time. */
export type RateLimitAsk = (checks: RateLimitCheck[]) => Promise<RateLimitVerdict[] | null>;

/** Matches rate-limit-verdict messages to pending requests. */
export class RateLimitClient {
  readonly #calls: IpcCalls<RateLimitVerdict[]>;
  readonly #send: (msg: FromWorker) => boolean;

  constructor(send: (msg: FromWorker) => boolean, timeoutMs = 250) {
    this.#send = send;
    this.#calls = new IpcCalls(timeoutMs);
  }

  /** Ask the primary; resolves null on timeout or when IPC is down. */
  readonly ask: RateLimitAsk = (checks) =>
    this.#calls.call((id) => this.#send({ v: PROTOCOL_VERSION, type: 'rate-limit-take', id, checks }));

  /** Feed a verdict message from the primary. */
  answer(id: number, verdicts: RateLimitVerdict[]): void {
    // An empty or malformed answer means the primary could not judge: fail open.
    this.#calls.settle(id, Array.isArray(verdicts) && verdicts.length > 0 ? verdicts : null);
  }
}
