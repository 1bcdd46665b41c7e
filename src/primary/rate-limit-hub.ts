/**
 * Node-wide rate limiting: the primary owns every bucket, and workers charge them over
 * IPC. One store for the whole node means N workers together can never allow more than
 * the limit (the error bound is zero, at the cost of one IPC round trip per limited
 * request, ~0.1 ms here). Memory is bounded by the store's `maxKeys` (see
 * common/rate-limit/local-limiter-store.ts for what eviction can and cannot do).
 */
import type { Worker } from 'node:cluster';
import { LocalLimiterStore, parseLimit, type Clock, type ParsedLimit } from '../common/rate-limit/index.js';
import { sendToWorker } from './send-to-worker.js';
import { PROTOCOL_VERSION, RATE_LIMIT_MAX_BATCH, type RateLimitCheck, type RateLimitVerdict, type ToWorker } from '../ipc/index.js';

/** Checks as sent by a worker, or null when the message is malformed. */
function validChecks(checks: unknown): RateLimitCheck[] | null {
  // A route's 4 limits, its service's 4, and an API key's own limit.
  if (!Array.isArray(checks) || checks.length > 9) return null;
  for (const c of checks) {
    if (typeof c !== 'object' || c === null) return null;
    const { key, limit } = c as { key?: unknown; limit?: unknown };
    if (typeof key !== 'string' || key.length > 256 || typeof limit !== 'object' || limit === null) return null;
  }
  return checks as RateLimitCheck[];
}

/** Answers rate-limit-take messages from workers. */
export class RateLimitHub {
  readonly #store: LocalLimiterStore;
  readonly #limits = new Map<string, ParsedLimit | null>();

  /** `clock`: monotonic ms for the buckets (tests inject one; `performance.now` by default). */
  constructor(maxKeys?: number, clock?: Clock) {
    this.#store = new LocalLimiterStore({ ...(maxKeys === undefined ? {} : { maxKeys }), ...(clock === undefined ? {} : { clock }) });
  }

  /** The most buckets the store holds. */
  get maxKeys(): number {
    return this.#store.maxKeys;
  }

  /** Buckets currently held. */
  get size(): number {
    return this.#store.size;
  }

  /**
   * Answer `from`: all-or-nothing. Every bucket is probed first (taking 0 tokens), and a
   * token is charged from each only when all of them have one, so a request refused by
   * one limit does not spend the client's budget in the others.
   */
  take(from: Worker, id: number, checks: unknown): void {
    const verdicts = this.decide(checks);
    const msg: ToWorker = { v: PROTOCOL_VERSION, type: 'rate-limit-verdict', id, verdicts };
    sendToWorker(from, msg);
  }

  /**
   * Answer a batch of takes in one message, decided in the order sent. A malformed ask,
   * or one past RATE_LIMIT_MAX_BATCH (workers split larger turns), is answered with no
   * verdicts: it fails open at once instead of after the worker's timeout.
   */
  takeBatch(from: Worker, asks: unknown): void {
    if (!Array.isArray(asks)) return;
    const answers: { id: number; verdicts: RateLimitVerdict[] }[] = [];
    for (const a of asks as unknown[]) {
      const id = (a as { id?: unknown } | null)?.id;
      if (typeof id !== 'number') continue;
      answers.push({ id, verdicts: answers.length < RATE_LIMIT_MAX_BATCH ? this.decide((a as { checks?: unknown }).checks) : [] });
    }
    sendToWorker(from, { v: PROTOCOL_VERSION, type: 'rate-limit-verdict-batch', answers });
  }

  /** Verdicts for `checks` (see `take`); none for a malformed message, which fails open. */
  decide(raw: unknown): RateLimitVerdict[] {
    const checks = validChecks(raw);
    if (checks === null) return [];
    const limits = checks.map((c) => this.#limit(c.limit));
    const probes = checks.map((c, i) => (limits[i] === null ? null : this.#store.take(c.key, limits[i]!, 0)));
    const admit = probes.every((p) => p === null || p.remaining >= 1);
    return checks.map((c, i) => {
      const limit = limits[i];
      // Config was validated in the control plane; a limit that still fails to parse
      // (a protocol mismatch) must not block traffic.
      if (limit === null || limit === undefined) return { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0 };
      const probe = probes[i]!;
      if (!admit && probe.remaining >= 1) {
        // This limit would have let the request through; another one refused it.
        return { allowed: true, remaining: probe.remaining, retryAfterMs: 0, resetMs: probe.resetMs };
      }
      // Admitted: charge one token. Refused here: a take of 1 from an empty bucket
      // consumes nothing and says how long until one token is there.
      const d = this.#store.take(c.key, limit, 1);
      return {
        allowed: d.allowed,
        remaining: d.remaining,
        retryAfterMs: Number.isFinite(d.retryAfterMs) ? d.retryAfterMs : -1,
        resetMs: d.resetMs,
      };
    });
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
