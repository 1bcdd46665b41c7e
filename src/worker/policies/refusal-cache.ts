/**
 * Refusals the primary gave, answered again locally while they must still hold.
 *
 * Why it is exact. Only a check set refused by every one of its limits is kept: each of
 * its buckets had less than one token, and a refused request charges nothing anywhere.
 * A bucket with less than one token only gains by refill (nobody can take from it), so
 * it stays short until the refill time the primary reported (`retryAfterMs`: the least
 * whole ms after which the take is granted). Asked again before the earliest of those
 * times, the primary would give the same answer, waits shortened by the time passed. The window is measured from when the worker *asked* (the
 * primary decided later), minus the one ms `retryAfterMs` rounds up, so it always ends
 * before the exact moment; the waits shown to the client are counted from when the
 * answer *arrived*, so they are never shorter than the real ones.
 *
 * Why it is worth it. Every limited request costs an IPC round trip to the primary
 * (~25 µs of CPU, on the primary too, which serves every worker). A client flooding past
 * its limit would make each refused request pay that; with this cache only the first
 * refusal per window does.
 *
 * Limits: the cache key includes the limit's shape, so a reload that changes a limit
 * asks afresh. A bucket the primary evicted (its key store is bounded) restarts full
 * there while the cache still refuses, at most until the refill time it was told.
 * Entries are bounded (`maxEntries`); the oldest go first.
 */
import { performance } from 'node:perf_hooks';
import type { RateLimitCheck, RateLimitVerdict } from '../../ipc/index.js';
import type { RateLimitAsk } from './rate-limit-client.js';

interface Refusal {
  /** Worker clock (ms) before which the same checks are refused again. */
  readonly until: number;
  /** Worker clock (ms) when the answer arrived: the verdicts' waits count from here. */
  readonly answeredAt: number;
  readonly verdicts: readonly RateLimitVerdict[];
}

/** Wraps a RateLimitAsk and answers repeated refusals without asking again. */
export class RefusalCache {
  readonly #inner: RateLimitAsk;
  readonly #clock: () => number;
  readonly #maxEntries: number;
  readonly #onLocal: () => void;
  readonly #entries = new Map<string, Refusal>();

  /** `onLocal` is called for each refusal answered from the cache (a metric). */
  constructor(inner: RateLimitAsk, opts: { maxEntries?: number; clock?: () => number; onLocal?: () => void } = {}) {
    this.#inner = inner;
    this.#clock = opts.clock ?? (() => performance.now());
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#onLocal = opts.onLocal ?? (() => {});
  }

  /** Refusals remembered now (expired ones go when next looked up or pushed out). */
  get size(): number {
    return this.#entries.size;
  }

  /** Verdicts for `checks`: a remembered refusal, or the inner answer. */
  readonly ask: RateLimitAsk = (checks) => {
    const key = keyOf(checks);
    const askedAt = this.#clock();
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      if (askedAt < cached.until) {
        this.#onLocal();
        return Promise.resolve(aged(cached, askedAt));
      }
      this.#entries.delete(key);
    }
    return this.#inner(checks).then((verdicts) => {
      if (verdicts !== null) this.#remember(key, verdicts, askedAt);
      return verdicts;
    });
  };

  #remember(key: string, verdicts: RateLimitVerdict[], askedAt: number): void {
    let wait = Infinity;
    for (const v of verdicts) {
      // A limit that had tokens may lose them to other requests meanwhile, and would then
      // be reported refused too (with its own Retry-After): only sets refused by every
      // one of their limits are kept, so every remembered verdict stays true.
      if (v.allowed) return;
      // -1: this limit can never admit the request (config makes it rare); it sets no window.
      if (v.retryAfterMs >= 0) wait = Math.min(wait, v.retryAfterMs);
    }
    // A wait too short to be worth an entry.
    if (wait === Infinity || wait <= 1) return;
    // A key asked again (its entry expired) replaces itself; only a new key pushes out the oldest.
    if (!this.#entries.delete(key) && this.#entries.size >= this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, { until: askedAt + wait - 1, answeredAt: this.#clock(), verdicts: verdicts.slice() });
  }
}

/** One string per check set: bucket keys with their limits' shape (a reload may change it). */
function keyOf(checks: readonly RateLimitCheck[]): string {
  let key = '';
  for (const c of checks) key += `${c.limit.requests}/${c.limit.per}/${c.limit.burst ?? ''} ${c.key}\n`;
  return key;
}

/** The remembered verdicts with their waits shortened by the time passed since they came. */
function aged(r: Refusal, now: number): RateLimitVerdict[] {
  const passed = Math.max(0, Math.floor(now - r.answeredAt));
  return r.verdicts.map((v) => ({
    allowed: v.allowed,
    remaining: v.remaining,
    retryAfterMs: v.retryAfterMs <= 0 ? v.retryAfterMs : Math.max(1, v.retryAfterMs - passed),
    resetMs: Math.max(0, v.resetMs - passed),
  }));
}
