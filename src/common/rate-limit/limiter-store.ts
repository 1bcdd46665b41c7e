/**
 * The seam between rate-limit policy code and where bucket state lives. Policies call
 * `take` and read the `Decision`; they never see buckets, so a cluster-wide store can
 * replace `LocalLimiterStore` without touching them.
 *
 * `take` is synchronous on purpose: it runs on every request. A Redis-backed store is meant
 * to keep it so (see ARCHITECTURE: "quota leases"): it answers from tokens leased in
 * batches from the shared quota and renews leases in the background, falling back to
 * local limits when Redis is down, rather than putting a round trip on the request path.
 */
import type { ParsedLimit } from './limit-spec.js';
import type { Decision } from './token-bucket.js';

/** Where buckets live: one per (limit, key); a store may forget idle ones. */
export interface LimiterStore {
  /** Take `n` tokens (default 1) from the bucket of `key` under `limit`, creating it full if absent. */
  take(key: string, limit: ParsedLimit, n?: number): Decision;
}
