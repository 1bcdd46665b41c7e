/**
 * Maps a service's configured `loadBalancer` kind to its implementation. The kinds are a
 * closed union validated by the config schema, so an unknown kind here is a programming
 * error and throws; `pick` itself never does.
 */
import type { LoadBalancerKind } from '../../../ipc/index.js';
import type { Balancer, Endpoint, RandomSource } from './balancer.js';
import { LeastConnectionsBalancer } from './least-connections-balancer.js';
import { PowerOfTwoChoicesBalancer } from './power-of-two-choices-balancer.js';
import { RandomBalancer } from './random-balancer.js';
import { RoundRobinBalancer } from './round-robin-balancer.js';
import { SmoothWeightedRoundRobinBalancer } from './smooth-weighted-round-robin-balancer.js';

/** A balancer of `kind` over `endpoints`; `random` (default `Math.random`) feeds the random kinds. */
export function createBalancer(
  kind: LoadBalancerKind,
  endpoints: readonly Endpoint[],
  random: RandomSource = Math.random,
): Balancer {
  switch (kind) {
    case 'round-robin':
      return new RoundRobinBalancer(endpoints);
    case 'weighted-round-robin':
      return new SmoothWeightedRoundRobinBalancer(endpoints);
    case 'least-connections':
      return new LeastConnectionsBalancer(endpoints);
    case 'random':
      return new RandomBalancer(endpoints, random);
    case 'p2c':
      return new PowerOfTwoChoicesBalancer(endpoints, random);
    default: {
      const unknown: never = kind;
      throw new TypeError(`unknown load balancer kind: ${String(unknown)}`);
    }
  }
}
