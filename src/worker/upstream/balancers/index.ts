/** Public surface of the load balancers: the contract, the five algorithms, the factory. */
export type { Balancer, Endpoint, RandomSource } from './balancer.js';
export { RoundRobinBalancer } from './round-robin-balancer.js';
export { SmoothWeightedRoundRobinBalancer } from './smooth-weighted-round-robin-balancer.js';
export { LeastConnectionsBalancer } from './least-connections-balancer.js';
export { RandomBalancer } from './random-balancer.js';
export { PowerOfTwoChoicesBalancer } from './power-of-two-choices-balancer.js';
export { createBalancer } from './create-balancer.js';
