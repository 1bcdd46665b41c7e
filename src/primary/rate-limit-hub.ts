/**
 * Node-wide rate limiting: the primary owns every bucket, and workers charge them over
 * IPC. One store for the whole node means N workers together can never allow more than
 * the limit (the error bound is zero, at the cost of one IPC round trip per limited
 * request, ~0.1 ms here). Memory is bounded by the store's `maxKeys` (see
 * common/rate-limit/local-limiter-store.ts for what eviction can and cannot do).
 */
import type { Worker } from 'node:cluster';
import { LocalLimiterStore, parseLimit, type ParsedLimit } from '../common/rate-limit/index.js';
import { PROTOCOL_VERSION, type RateLimitCheck, type RateLimitVerdict, type ToWorker } from '../ipc/index.js';

/** Answers rate-limit-take messages from workers. */
export class RateLimitHub {
  readonly #store: LocalLimiterStore;
  readonly #limits = new Map<string, ParsedLimit | null>();

  constructor(maxKeys?: number) {
    this.#store = new LocalLimiterStore(maxKeys === undefined ? {} : { maxKeys });
  }

  /** Buckets currently held. */
  get size(): number {
    return this.#store.size;
  }

  /** Charge each check and answer `from`. */
  take(from: Worker, id: number, checks: readonly RateLimitCheck[]): void {
    const verdicts = checks.map((c) => this.#take(c));
    const msg: ToWorker = { v: PROTOCOL_VERSION, type: 'rate-limit-verdict', id, verdicts };
    if (from.isConnected()) from.send(msg, () => {});
  }

  #take(check: RateLimitCheck): RateLimitVerdict {
    const limit = this.#limit(check.limit);
    // Config was validated in the control plane; a limit that still fails to parse
    // (a protocol mismatch) must not block traffic.
    if (limit === null) return { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0 };
    const d = this.#store.take(check.key, limit);
    return {
      allowed: d.allowed,
      remaining: d.remaining,
      retryAfterMs: Number.isFinite(d.retryAfterMs) ? d.retryAfterMs : -1,
      resetMs: d.resetMs,
    };
  }

  #limit(spec: RateLimitCheck['limit']): ParsedLimit | null {
    const cacheKey = `${spec.requests}|${spec.per}|${spec.burst ?? ''}`;
    let limit = this.#limits.get(cacheKey);
    if (limit === undefined) {
      const parsed = parseLimit(spec.burst === undefined ? { requests: spec.requests, per: spec.per } : spec);
      limit = parsed.ok ? parsed.limit : null;
      this.#limits.set(cacheKey, limit);
    }
    return limit;
  }
}
