/** Rate-limit primitives shared by the planes: token bucket, limit parsing, bucket stores. */
export { TokenBucket, type TokenBucketOptions, type Decision, type Clock } from './token-bucket.js';
export { parseLimit, type LimitSpec, type LimitUnit, type ParsedLimit, type LimitParseResult } from './limit-spec.js';
export type { LimiterStore } from './limiter-store.js';
export {
  LocalLimiterStore,
  DEFAULT_MAX_KEYS,
  type LocalLimiterStoreOptions,
  type EvictionCounts,
} from './local-limiter-store.js';
