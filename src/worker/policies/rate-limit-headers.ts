/**
 * Rate-limit response headers, on every response of a limited route:
 *   RateLimit-Policy: 10;w=60, 1000;w=3600       (IETF draft-ietf-httpapi-ratelimit-headers-07)
 *   RateLimit: limit=10, remaining=3, reset=42   (the limit closest to refusing)
 *   X-RateLimit-Limit / -Remaining / -Reset      (the same numbers, for older clients;
 *                                                 Reset is seconds from now, not a Unix time)
 * The upstream's own copies of these fields are dropped so clients never see two.
 *   Retry-After: 6                               (429 only; seconds, rounded up)
 */
import type { RateLimitConfig, RateLimitVerdict } from '../../ipc/index.js';

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Window of a limit in seconds. */
export function windowSeconds(l: RateLimitConfig): number {
  return typeof l.per === 'number' ? l.per : UNIT_S[l.per]!;
}

/**
 * Headers for `verdicts` (in `limits` order); a refusal adds Retry-After whatever `mode`
 * says (`ietf`: RateLimit-Policy + RateLimit only, `legacy`: X-RateLimit-* only).
 */
export function rateLimitHeaders(
  limits: readonly RateLimitConfig[],
  verdicts: readonly RateLimitVerdict[],
  mode: 'both' | 'ietf' | 'legacy' | 'none',
): Record<string, string> {
  // Report the limit that refused (if any), else the one with the fewest tokens left.
  let tightest = 0;
  for (let i = 1; i < verdicts.length; i++) {
    const a = verdicts[i]!;
    const b = verdicts[tightest]!;
    if ((!a.allowed && b.allowed) || (a.allowed === b.allowed && a.remaining < b.remaining)) tightest = i;
  }
  const l = limits[tightest]!;
  const v = verdicts[tightest]!;
  const reset = String(Math.ceil(v.resetMs / 1000));
  const headers: Record<string, string> = {};
  if (mode === 'both' || mode === 'ietf') {
    headers['ratelimit-policy'] = limits
      .map((x) => `${x.requests};w=${Math.ceil(windowSeconds(x))}${x.burst === undefined ? '' : `;burst=${x.burst}`}`)
      .join(', ');
    headers.ratelimit = `limit=${l.requests}, remaining=${v.remaining}, reset=${reset}`;
  }
  if (mode === 'both' || mode === 'legacy') {
    headers['x-ratelimit-limit'] = String(l.requests);
    headers['x-ratelimit-remaining'] = String(v.remaining);
    headers['x-ratelimit-reset'] = reset;
  }
  const denied = verdicts.filter((d) => !d.allowed);
  if (denied.length > 0) {
    const waitMs = Math.max(...denied.map((d) => (d.retryAfterMs < 0 ? 3600_000 : d.retryAfterMs)));
    headers['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
  }
  return headers;
}
