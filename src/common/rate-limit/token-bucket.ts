/**
 * Token bucket with lazy refill and exact integer arithmetic.
 *
 * The bucket holds at most `capacity` tokens (the burst) and gains `refillTokens` every
 * `refillIntervalMs`. A take of `n` tokens is granted whole or refused whole. Nothing runs
 * in the background: the level is brought up to date from the clock on each use.
 *
 * Units (why not a float level). The rate is kept as the ratio the config wrote, never as
 * a float tokens/s: 10 per minute is 1/6 token/s, which no float holds exactly, and a
 * float level reaches 0.99999… token after 6 s (measured: ~5% of such boundaries land a
 * millisecond late, which a whole-second Retry-After can turn into a second late).
 * So the level is an integer count of *credits*: with g = gcd(refillTokens,
 * refillIntervalMs), one token is `refillIntervalMs / g` credits and each millisecond
 * mints `refillTokens / g` credits. For 10/min a token is 6000 credits, one per ms. With
 * whole-millisecond clock readings every quantity is an exact integer (< 2^53).
 *
 * No drift. Refilling step by step would floor away part of a credit on each call and run
 * slow. Instead the level is `base + floor((t - anchor) × mintPerMs)`, recomputed from a
 * fixed anchor; taking tokens lowers `base`. The anchor moves only when the bucket is full
 * (the surplus is discarded anyway, so nothing is lost) or after 2^40 minted credits, to
 * keep every value inside the exact-integer range; that costs < 1 credit per 2^40, always
 * in the limiter's favour. With a fractional clock (performance.now) the one rounding is
 * that of a single product per reading, and it never accumulates.
 *
 * Time. Readings are monotonic milliseconds. One lower than a reading already seen (or
 * NaN) counts as that earlier maximum: a clock stepping back mints nothing and refunds
 * nothing, and refill resumes once it catches up.
 *
 * Answers. `retryAfterMs` and `resetMs` are whole milliseconds, the least ones after which
 * the same formula grants the take / shows the bucket full, so a client that waits that
 * long is never refused for being early.
 */
import { performance } from 'node:perf_hooks';

/** A monotonic time source in milliseconds; injected so tests control time. */
export type Clock = () => number;

/** What a take decided. */
export interface Decision {
  /** Whether the tokens were granted (and removed from the bucket). */
  readonly allowed: boolean;
  /** Whole tokens left in the bucket after this take. */
  readonly remaining: number;
  /** Ms until the requested tokens are available: 0 when allowed, Infinity when more than capacity. */
  readonly retryAfterMs: number;
  /** Ms until the bucket is full again; 0 when it is full. */
  readonly resetMs: number;
}

/** Shape of a bucket: burst and refill ratio as whole numbers (a `ParsedLimit` fits). */
export interface TokenBucketOptions {
  /** Most tokens held at once: the burst. */
  readonly capacity: number;
  /** Tokens added per `refillIntervalMs`. */
  readonly refillTokens: number;
  /** Interval in ms over which `refillTokens` are added. */
  readonly refillIntervalMs: number;
  /** Monotonic ms clock; `performance.now` by default. */
  readonly clock?: Clock;
}

/** Largest capacity in credits: half the exact-integer range, so minted credits beyond it stay exact enough to clamp. */
export const MAX_CAPACITY_CREDITS = 2 ** 52;

// Move the anchor once this many credits have been minted since it, so the product
// (t - anchor) × mintPerMs and a negative `base` stay far below 2^53.
const REBASE_CREDITS = 2 ** 40;

const defaultClock: Clock = () => performance.now();

/** Greatest common divisor of two positive safe integers. */
export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** A hand-written token bucket: lazy refill, integer credits, injectable monotonic clock. */
export class TokenBucket {
  readonly #capacity: number;
  readonly #tokenCredits: number;
  readonly #mintPerMs: number;
  readonly #fullCredits: number;
  readonly #clock: Clock;
  // Level at time t is #base + floor((t - #anchor) × #mintPerMs), capped at #fullCredits.
  #anchor: number;
  #base: number;
  // Highest reading seen: the clock may step back, the bucket's time may not.
  #last: number;

  /** Starts full. Throws RangeError on a shape the limit parser would have refused. */
  constructor(options: TokenBucketOptions) {
    const { capacity, refillTokens, refillIntervalMs } = options;
    for (const [name, v] of [['capacity', capacity], ['refillTokens', refillTokens], ['refillIntervalMs', refillIntervalMs]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`TokenBucket: ${name} must be a whole number >= 1, got ${v}`);
    }
    const g = gcd(refillTokens, refillIntervalMs);
    this.#capacity = capacity;
    this.#tokenCredits = refillIntervalMs / g;
    this.#mintPerMs = refillTokens / g;
    this.#fullCredits = capacity * this.#tokenCredits;
    if (this.#fullCredits > MAX_CAPACITY_CREDITS) {
      throw new RangeError(`TokenBucket: capacity ${capacity} is too large to track exactly at this rate`);
    }
    this.#clock = options.clock ?? defaultClock;
    const start = this.#clock();
    if (!Number.isFinite(start)) throw new RangeError(`TokenBucket: clock returned ${start}`);
    this.#anchor = start;
    this.#last = start;
    this.#base = this.#fullCredits;
  }

  /** Most tokens the bucket holds (the burst). */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Clock time (ms) at which the bucket is full if nothing more is taken; for a bucket
   * already full, the last time it was used while full. A full bucket carries no state,
   * so stores use this to choose what to evict (and a shared store could use it as a TTL).
   */
  get fullAt(): number {
    if (this.#base >= this.#fullCredits) return this.#anchor;
    return this.#anchor + (this.#fullCredits - this.#base) / this.#mintPerMs;
  }

  /** Take `n` tokens (a whole number >= 0) if all are available; otherwise take none. */
  take(n = 1): Decision {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`TokenBucket: n must be a whole number >= 0, got ${n}`);
    const t = this.#now();
    const level = this.#sync(t);
    const cost = n * this.#tokenCredits;
    if (cost <= level) {
      this.#base -= cost;
      const left = level - cost;
      return {
        allowed: true,
        remaining: Math.floor(left / this.#tokenCredits),
        retryAfterMs: 0,
        resetMs: left >= this.#fullCredits ? 0 : this.#msUntil(this.#fullCredits, t),
      };
    }
    return {
      allowed: false,
      remaining: Math.floor(level / this.#tokenCredits),
      // A take larger than the bucket can never succeed; say so instead of a misleading wait.
      retryAfterMs: cost > this.#fullCredits ? Infinity : this.#msUntil(cost, t),
      resetMs: this.#msUntil(this.#fullCredits, t),
    };
  }

  /** The bucket's time: the clock, but never earlier than a reading already seen. */
  #now(): number {
    const reading = this.#clock();
    // `>` rather than Math.max so that a NaN reading also falls back to #last.
    if (reading > this.#last) this.#last = reading;
    return this.#last;
  }

  /** Level in credits at time t; moves the anchor when that loses nothing (full) or is due. */
  #sync(t: number): number {
    const minted = Math.floor((t - this.#anchor) * this.#mintPerMs);
    const level = this.#base + minted;
    if (level >= this.#fullCredits) {
      this.#anchor = t;
      this.#base = this.#fullCredits;
      return this.#fullCredits;
    }
    if (minted >= REBASE_CREDITS) {
      this.#anchor = t;
      this.#base = level;
    }
    return level;
  }

  /** Least whole ms x such that the level at t + x reaches `target` (> level at t). */
  #msUntil(target: number, t: number): number {
    const need = target - this.#base;
    let x = Math.max(0, Math.ceil(need / this.#mintPerMs - (t - this.#anchor)));
    // The division and subtraction round; settle x on the exact test #sync applies.
    if (!this.#reaches(need, t + x)) x += 1;
    else if (x > 0 && this.#reaches(need, t + x - 1)) x -= 1;
    return x;
  }

  /** Whether credits minted since the anchor reach `need` at time `at` (same formula as #sync). */
  #reaches(need: number, at: number): boolean {
    return Math.floor((at - this.#anchor) * this.#mintPerMs) >= need;
  }
}
