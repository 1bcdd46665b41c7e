/**
 * Turns one draw of a `RandomSource` into an index below `n`. Clamped because an injected
 * source may return 1, a negative number or NaN, and `pick` must still return an endpoint
 * rather than `undefined`.
 */
import type { RandomSource } from './balancer.js';

/** A uniform integer in [0, n) from one call to `random`; `n` must be positive. */
export function randomIndex(random: RandomSource, n: number): number {
  const i = Math.floor(random() * n);
  // `i >= 0` is false for NaN too, so a NaN draw lands on 0.
  return i >= 0 ? (i < n ? i : n - 1) : 0;
}
