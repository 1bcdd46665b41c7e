/**
 * Per-key rate limits. An API key record may carry its own limit; for requests made with
 * that key it replaces the numbers of the route's `api-key` limits (the bucket is still
 * per route and key), and when the route has no `api-key` limit it is added as one, so a
 * key's limit holds on every route the key can call.
 */
import type { RateLimitConfig } from '../../../ipc/index.js';
import type { Identity } from './identity.js';

/** The limits to charge for `identity` on a route with `limits`. */
export function effectiveLimits(limits: readonly RateLimitConfig[], identity: Identity | null): readonly RateLimitConfig[] {
  const own = identity?.rateLimit;
  if (own === null || own === undefined) return limits;
  const replaced = limits.map((l) => (l.key === 'api-key' ? { requests: own.requests, per: own.per, key: 'api-key' } : l));
  return limits.some((l) => l.key === 'api-key') ? replaced : [...limits, { requests: own.requests, per: own.per, key: 'api-key' }];
}
