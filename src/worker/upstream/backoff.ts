/**
 * Waits between tries. Full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter"): the n-th retry waits a uniform random time in [0, min(max, base·2^n)), which
 * spreads the retries of many clients that failed together instead of re-synchronising
 * them into waves. An upstream's `Retry-After` replaces the computed wait.
 */
import type { RandomSource } from './balancers/index.js';

/** Wait before retry number `retry` (0 = the first retry), in ms. */
export function fullJitterBackoff(retry: number, baseMs: number, maxMs: number, random: RandomSource = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) as a wait in ms: delay-seconds or an HTTP-date.
 * Null when absent or malformed (then the computed backoff applies); a date in the past
 * is 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v) * 1000;
  // Dates carry a weekday and GMT; a bare number with junk is not one.
  if (!/GMT$/.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
