/**
 * Weighted random: each eligible endpoint is chosen with probability weight / total, one
 * call to `random` per pick.
 *
 * Without `skip`, a prefix-sum table built once turns the draw into an endpoint by binary
 * search, O(log n). With `skip`, the eligible set changes per call, so a first pass asks
 * `skip` once per endpoint (remembering the answer in a scratch array allocated up front)
 * and sums the eligible weights; the draw is scaled to that sum and a second pass walks
 * the eligible endpoints to it. Skipped endpoints thus vanish from the distribution
 * instead of handing their share to a neighbour, which a "redraw on skip" or "take the
 * next one" scheme would do. O(n) with `skip`, no allocation either way.
 */
import type { Balancer, Endpoint, RandomSource } from './balancer.js';
import { weightsOf } from './weights.js';

/** Weighted random choice among the endpoints not skipped. */
export class RandomBalancer implements Balancer {
  readonly #endpoints: readonly Endpoint[];
  readonly #weights: Float64Array;
  /** `#prefix[i]` is the sum of weights 0..i. */
  readonly #prefix: Float64Array;
  /** Scratch for the skip pass: 1 when endpoint i is eligible in the current pick. */
  readonly #eligible: Uint8Array;
  readonly #random: RandomSource;

  constructor(endpoints: readonly Endpoint[], random: RandomSource = Math.random) {
    this.#endpoints = endpoints.slice();
    this.#weights = weightsOf(this.#endpoints);
    this.#prefix = new Float64Array(this.#weights.length);
    let sum = 0;
    for (let i = 0; i < this.#weights.length; i++) this.#prefix[i] = sum += this.#weights[i]!;
    this.#eligible = new Uint8Array(this.#endpoints.length);
    this.#random = random;
  }

  /** A weighted random eligible endpoint; null when all are skipped. */
  pick(skip?: (e: Endpoint) => boolean): Endpoint | null {
    const n = this.#endpoints.length;
    if (n === 0) return null;
    return skip === undefined ? this.#pickAny(n) : this.#pickEligible(n, skip);
  }

  #pickAny(n: number): Endpoint {
    const prefix = this.#prefix;
    const target = this.#random() * prefix[n - 1]!;
    // First index whose prefix sum exceeds the target.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prefix[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return this.#endpoints[lo]!;
  }

  #pickEligible(n: number, skip: (e: Endpoint) => boolean): Endpoint | null {
    const endpoints = this.#endpoints;
    const weights = this.#weights;
    const eligible = this.#eligible;
    let total = 0;
    let last = -1;
    for (let i = 0; i < n; i++) {
      if (skip(endpoints[i]!)) {
        eligible[i] = 0;
      } else {
        eligible[i] = 1;
        total += weights[i]!;
        last = i;
      }
    }
    if (last < 0) return null;
    let target = this.#random() * total;
    for (let i = 0; i < last; i++) {
      if (eligible[i] === 0) continue;
      target -= weights[i]!;
      if (target < 0) return endpoints[i]!;
    }
    // Reached on the last eligible endpoint's slice, and also when rounding or a draw
    // of 1 or NaN from an injected source overshoots: never fall off the end.
    return endpoints[last]!;
  }
}
