/**
 * Retry budget (Finagle/Linkerd's design; Envoy's `retry_budget` has the same intent):
 * over a sliding window of 10 s, retries may not exceed `percent` % of the requests
 * started in that window plus `minPerSecond` × 10, so a failing upstream sees at most
 * (1 + percent/100) × the client load, plus a small constant that lets a quiet service
 * still retry. Per worker and per service: each worker applies the ratio to its own
 * requests, so the node-wide ratio holds too (the constant term adds up per worker).
 *
 * The window is 10 buckets of 1 s in a ring; a bucket is cleared when the clock moves
 * into it again. Counts are integers and the comparison is exact:
 * 100 × (retries + 1) ≤ percent × requests + 100 × minPerSecond × 10.
 */

const BUCKETS = 10;
const BUCKET_MS = 1000;

/** Admits a retry only while the window's retries stay within the budget. */
export class RetryBudget {
  readonly #percent: number;
  readonly #minPerWindow: number;
  readonly #requests = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  /** Index of the bucket `#epoch` falls in; `#epoch` is its start in whole seconds. */
  #epoch = -1;

  constructor(percent: number, minPerSecond: number) {
    this.#percent = percent;
    this.#minPerWindow = minPerSecond * (BUCKETS * BUCKET_MS) / 1000;
  }

  /** Count a request (a first try) started at `nowMs`. */
  recordRequest(nowMs: number): void {
    this.#advance(nowMs);
    this.#requests[this.#epoch % BUCKETS]!++;
  }

  /** True (and the retry is counted) when one more retry fits the budget at `nowMs`. */
  tryRetry(nowMs: number): boolean {
    this.#advance(nowMs);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      requests += this.#requests[i]!;
      retries += this.#retries[i]!;
    }
    if (100 * (retries + 1) > this.#percent * requests + 100 * this.#minPerWindow) return false;
    this.#retries[this.#epoch % BUCKETS]!++;
    return true;
  }

  #advance(nowMs: number): void {
    const epoch = Math.floor(nowMs / BUCKET_MS);
    if (epoch <= this.#epoch) return; // the clock stepped back: keep counting in the newest bucket
    const steps = this.#epoch < 0 ? BUCKETS : Math.min(BUCKETS, epoch - this.#epoch);
    for (let s = 1; s <= steps; s++) {
      const i = (epoch - steps + s) % BUCKETS;
      this.#requests[i] = 0;
      this.#retries[i] = 0;
    }
    this.#epoch = epoch;
  }
}
