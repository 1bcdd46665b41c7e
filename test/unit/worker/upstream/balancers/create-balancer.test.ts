import t from 'tap';
import type { LoadBalancerKind } from '../../../../../src/ipc/index.js';
import {
  createBalancer,
  LeastConnectionsBalancer,
  PowerOfTwoChoicesBalancer,
  RandomBalancer,
  RoundRobinBalancer,
  SmoothWeightedRoundRobinBalancer,
} from '../../../../../src/worker/upstream/balancers/index.js';
import { endpoints, scripted } from './helpers.js';

const KINDS: Record<LoadBalancerKind, Function> = {
  'round-robin': RoundRobinBalancer,
  'weighted-round-robin': SmoothWeightedRoundRobinBalancer,
  'least-connections': LeastConnectionsBalancer,
  random: RandomBalancer,
  p2c: PowerOfTwoChoicesBalancer,
};

t.test('each configured kind maps to its implementation', async (t) => {
  for (const [kind, cls] of Object.entries(KINDS)) {
    t.ok(createBalancer(kind as LoadBalancerKind, endpoints(1)) instanceof cls, kind);
  }
});

t.test('every kind returns null for an empty endpoint list', async (t) => {
  for (const kind of Object.keys(KINDS) as LoadBalancerKind[]) {
    t.equal(createBalancer(kind, [], scripted()).pick(), null, kind);
    t.equal(createBalancer(kind, [], scripted()).pick(() => false), null, `${kind} with skip`);
  }
});

t.test('the injected random source reaches the random kinds', async (t) => {
  t.equal(createBalancer('random', endpoints(1, 1), scripted(0.9)).pick()!.id, 'b');
  t.equal(createBalancer('p2c', endpoints(1, 1, 1), scripted(0.9, 0.9)).pick()!.id, 'c');
});

t.test('an unknown kind is a programming error and throws', async (t) => {
  t.throws(() => createBalancer('fastest' as LoadBalancerKind, []), TypeError);
});
