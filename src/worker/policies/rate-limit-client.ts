/**
 * The worker's side of node-wide rate limiting: send the checks to the primary, which
 * owns the buckets, and wait for the verdicts. If the primary does not answer in time
 * the request is let through (fail open) and the caller logs it: a supervision hiccup
 * must not turn into an outage.
 */
import { PROTOCOL_VERSION, type FromWorker, type RateLimitCheck, type RateLimitVerdict } from '../../ipc/index.js';

/** Verdicts for a request, or null when the primary could not be asked in time. */
export type RateLimitAsk = (checks: RateLimitCheck[]) => Promise<RateLimitVerdict[] | null>;

/** Matches rate-limit-verdict messages to pending requests. */
export class RateLimitClient {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(v: RateLimitVerdict[] | null): void; timer: NodeJS.Timeout }>();
  readonly #timeoutMs: number;
  readonly #send: (msg: FromWorker) => boolean;

  constructor(send: (msg: FromWorker) => boolean, timeoutMs = 250) {
    this.#send = send;
    this.#timeoutMs = timeoutMs;
  }

  /** Ask the primary; resolves null on timeout or when IPC is down. */
  readonly ask: RateLimitAsk = (checks) =>
    new Promise((resolve) => {
      const id = this.#nextId++;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(null);
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, timer });
      if (!this.#send({ v: PROTOCOL_VERSION, type: 'rate-limit-take', id, checks })) {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(null);
      }
    });

  /** Feed a verdict message from the primary. */
  answer(id: number, verdicts: RateLimitVerdict[]): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    // An empty or malformed answer means the primary could not judge: fail open.
    p.resolve(Array.isArray(verdicts) && verdicts.length > 0 ? verdicts : null);
  }
}
