/**
 * Weighted least connections: the endpoint with the fewest in-flight requests per unit of
 * weight, i.e. the smallest `active / weight`.
 *
 * Scores are compared by cross-multiplying (`a.active * b.weight < b.active * a.weight`)
 * so equal ratios compare equal exactly and no division happens on the hot path.
 *
 * Ties are broken round-robin: the scan starts at a cursor and keeps the first strictly
 * better endpoint, and the cursor then moves just past the winner. Without that, an idle
 * or evenly loaded service (all `active` equal, the common case at low concurrency) would
 * send every request to the first endpoint in the list. A consequence worth knowing: when
 * every endpoint is idle, picks rotate evenly whatever the weights; weights start to
 * matter once requests overlap. O(n) per pick, no allocation.
 */
import type { Balancer, Endpoint } from './balancer.js';
import { weightsOf } from './weights.js';

/** Fewest `active / weight` wins; ties rotate so load spreads. */
export class LeastConnectionsBalancer implements Balancer {
  readonly #endpoints: readonly Endpoint[];
  readonly #weights: Float64Array;
  #next = 0;

  constructor(endpoints: readonly Endpoint[]) {
    this.#endpoints = endpoints.slice();
    this.#weights = weightsOf(this.#endpoints);
  }

  /** The eligible endpoint with the lowest load per weight; null when all are skipped. */
  pick(skip?: (e: Endpoint) => boolean): Endpoint | null {
    const endpoints = this.#endpoints;
    const weights = this.#weights;
    const n = endpoints.length;
    let best = -1;
    let bestActive = 0;
    let bestWeight = 1;
    let i = this.#next;
    for (let scanned = 0; scanned < n; scanned++, i = i + 1 === n ? 0 : i + 1) {
      const e = endpoints[i]!;
      if (skip !== undefined && skip(e)) continue;
      const active = e.active;
      const w = weights[i]!;
      // active/w < bestActive/bestWeight, both weights positive.
      if (best < 0 || active * bestWeight < bestActive * w) {
        best = i;
        bestActive = active;
        bestWeight = w;
      }
    }
    if (best < 0) return null;
    this.#next = best + 1 === n ? 0 : best + 1;
    return endpoints[best]!;
  }
}
