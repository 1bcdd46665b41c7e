/**
 * Smooth weighted round robin, as in nginx (ngx_http_upstream_get_peer).
 *
 * Every endpoint carries a `current` score, all starting at 0. A pick adds each eligible
 * endpoint's weight to its `current`, chooses the eligible endpoint with the highest
 * `current` (first in list order on ties), and subtracts the sum of the eligible weights
 * from the winner. Over any window of `total` picks each endpoint is chosen exactly
 * `weight` times, and the picks are interleaved rather than bunched: weights 5, 1, 1 give
 * a a b a c a a, where plain WRR would give a a a a a b c.
 *
 * Skipped endpoints take no part in the round: their `current` is neither raised nor
 * lowered, and their weight is left out of the total that the winner pays. The scores
 * gained (the eligible weights) then equal the score paid (their sum), so the sum of all
 * `current` stays 0, and the eligible endpoints run a correct SWRR among themselves
 * with shares proportional to their own weights. A skipped endpoint resumes with the
 * score it had, so a brief skip (a retry excluding the instance just tried) does not
 * reset or distort the long-run shares. O(n) per pick, no allocation.
 */
import type { Balancer, Endpoint } from './balancer.js';
import { weightsOf } from './weights.js';

/** nginx's smooth weighted round robin; skipped endpoints keep their score untouched. */
export class SmoothWeightedRoundRobinBalancer implements Balancer {
  readonly #endpoints: readonly Endpoint[];
  readonly #weights: Float64Array;
  readonly #current: Float64Array;

  constructor(endpoints: readonly Endpoint[]) {
    this.#endpoints = endpoints.slice();
    this.#weights = weightsOf(this.#endpoints);
    this.#current = new Float64Array(this.#endpoints.length);
  }

  /** The eligible endpoint with the highest smoothed score; null when all are skipped. */
  pick(skip?: (e: Endpoint) => boolean): Endpoint | null {
    const endpoints = this.#endpoints;
    const weights = this.#weights;
    const current = this.#current;
    let best = -1;
    let bestScore = -Infinity;
    let total = 0;
    for (let i = 0; i < endpoints.length; i++) {
      if (skip !== undefined && skip(endpoints[i]!)) continue;
      const w = weights[i]!;
      const score = current[i]! + w;
      current[i] = score;
      total += w;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (best < 0) return null;
    current[best] = bestScore - total;
    return endpoints[best]!;
  }
}
