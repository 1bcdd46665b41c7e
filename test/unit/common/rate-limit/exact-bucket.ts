/**
 * Test oracle: the textbook token bucket in BigInt, stepped per reading. It has no
 * precision limits, so on whole-millisecond clocks `TokenBucket` must match it exactly.
 */
import type { Decision } from '../../../../src/common/rate-limit/index.js';

/** A token bucket refilled step by step in exact integer arithmetic (1 token = intervalMs units). */
export class ExactBucket {
  readonly #full: bigint;
  readonly #unit: bigint;
  readonly #mint: bigint;
  #level: bigint;
  #last: bigint;

  constructor(capacity: number, refillTokens: number, refillIntervalMs: number, start: number) {
    this.#unit = BigInt(refillIntervalMs);
    this.#mint = BigInt(refillTokens);
    this.#full = BigInt(capacity) * this.#unit;
    this.#level = this.#full;
    this.#last = BigInt(start);
  }

  /** Take n at whole-ms time `now` (earlier readings count as the latest seen). */
  take(now: number, n = 1): Decision {
    const t = BigInt(now);
    if (t > this.#last) {
      this.#level += this.#mint * (t - this.#last);
      if (this.#level > this.#full) this.#level = this.#full;
      this.#last = t;
    }
    const cost = BigInt(n) * this.#unit;
    const allowed = cost <= this.#level;
    if (allowed) this.#level -= cost;
    const ceilDiv = (a: bigint): number => Number((a + this.#mint - 1n) / this.#mint);
    return {
      allowed,
      remaining: Number(this.#level / this.#unit),
      retryAfterMs: allowed ? 0 : cost > this.#full ? Infinity : ceilDiv(cost - this.#level),
      resetMs: ceilDiv(this.#full - this.#level),
    };
  }
}
