/**
 * Power of two choices (Mitzenmacher; Envoy's LEAST_REQUEST default): draw two distinct
 * endpoints uniformly at random and send the request to the one with fewer in-flight
 * requests per unit of weight (`active / weight`, compared by cross-multiplying).
 *
 * Two random candidates get nearly all of the benefit of a full least-connections scan
 * (the expected worst load drops from log n / log log n to log log n) while staying O(1)
 * without `skip`. The randomness also keeps it from herding: when counts are tied or
 * stale, a strict minimum sends a burst to one endpoint, two random choices spread it.
 *
 * With `skip`, the eligible indices are collected into a scratch array allocated up
 * front, so both candidates are drawn from eligible endpoints only and a skipped endpoint
 * never shifts probability onto its neighbour. One eligible endpoint is returned as is.
 * On a tie the first candidate wins, which is itself a uniform random choice.
 */
import type { Balancer, Endpoint, RandomSource } from './balancer.js';
import { randomIndex } from './random-index.js';
import { weightsOf } from './weights.js';

/** The less loaded (per weight) of two distinct random eligible endpoints. */
export class PowerOfTwoChoicesBalancer implements Balancer {
  readonly #endpoints: readonly Endpoint[];
  readonly #weights: Float64Array;
  /** Scratch for the skip pass: indices of the eligible endpoints, first `count` valid. */
  readonly #eligible: Uint32Array;
  readonly #random: RandomSource;

  constructor(endpoints: readonly Endpoint[], random: RandomSource = Math.random) {
    this.#endpoints = endpoints.slice();
    this.#weights = weightsOf(this.#endpoints);
    this.#eligible = new Uint32Array(this.#endpoints.length);
    this.#random = random;
  }

  /** The less loaded of two random eligible endpoints; the only one if one; else null. */
  pick(skip?: (e: Endpoint) => boolean): Endpoint | null {
    const endpoints = this.#endpoints;
    const n = endpoints.length;
    if (skip === undefined) {
      if (n <= 1) return n === 1 ? endpoints[0]! : null;
      const a = randomIndex(this.#random, n);
      // Draw from the n - 1 others and step over `a`: distinct, and still uniform.
      let b = randomIndex(this.#random, n - 1);
      if (b >= a) b++;
      return this.#lessLoaded(a, b);
    }
    const eligible = this.#eligible;
    let count = 0;
    for (let i = 0; i < n; i++) if (!skip(endpoints[i]!)) eligible[count++] = i;
    if (count <= 1) return count === 1 ? endpoints[eligible[0]!]! : null;
    const a = randomIndex(this.#random, count);
    let b = randomIndex(this.#random, count - 1);
    if (b >= a) b++;
    return this.#lessLoaded(eligible[a]!, eligible[b]!);
  }

  #lessLoaded(a: number, b: number): Endpoint {
    const ea = this.#endpoints[a]!;
    const eb = this.#endpoints[b]!;
    // eb.active / wb < ea.active / wa, weights positive.
    return eb.active * this.#weights[a]! < ea.active * this.#weights[b]! ? eb : ea;
  }
}
