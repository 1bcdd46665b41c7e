/**
 * Weight sanitising shared by the weighted balancers. Config validation already limits
 * weights to 1..1000; this only keeps a bad value handed in by other code (0, negative,
 * NaN, Infinity) from turning arithmetic into NaN or a division by zero, which would make
 * `pick` return garbage instead of an endpoint.
 */
import type { Endpoint } from './balancer.js';

/** The weight a balancer uses for `e`: its own when positive and finite, else 1. */
export function effectiveWeight(e: Endpoint): number {
  const w = e.weight;
  return w > 0 && w < Infinity ? w : 1;
}

/** Effective weights of `endpoints`, read once so `pick` never re-validates them. */
export function weightsOf(endpoints: readonly Endpoint[]): Float64Array {
  const out = new Float64Array(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) out[i] = effectiveWeight(endpoints[i]!);
  return out;
}
