import t from 'tap';
import { LeastConnectionsBalancer } from '../../../../../src/worker/upstream/balancers/index.js';
import { endpoints, sequence, skipIds } from './helpers.js';

t.test('picks the endpoint with the fewest in-flight requests and follows changes', async (t) => {
  const list = endpoints(1, 1, 1);
  const lc = new LeastConnectionsBalancer(list);
  list[0]!.active = 4;
  list[1]!.active = 1;
  list[2]!.active = 3;
  t.equal(lc.pick()!.id, 'b');
  list[1]!.active = 9;
  t.equal(lc.pick()!.id, 'c');
  list[0]!.active = 0;
  t.equal(lc.pick()!.id, 'a');
});

t.test('compares active / weight', async (t) => {
  const list = endpoints(2, 1);
  const lc = new LeastConnectionsBalancer(list);
  list[0]!.active = 3; // 1.5 per weight
  list[1]!.active = 2; // 2 per weight
  t.equal(lc.pick()!.id, 'a');
  list[0]!.active = 5; // 2.5
  t.equal(lc.pick()!.id, 'b');
});

t.test('ties are broken round-robin so idle endpoints share the load', async (t) => {
  const list = endpoints(1, 1, 1);
  const lc = new LeastConnectionsBalancer(list);
  t.same(sequence(() => lc.pick(), 6), ['a', 'b', 'c', 'a', 'b', 'c']);
  list[0]!.active = 1;
  t.same(sequence(() => lc.pick(), 4), ['b', 'c', 'b', 'c'], 'only the tied least-loaded rotate');
});

t.test('held requests fill endpoints in proportion to their weights', async (t) => {
  // Every pick stays in flight, so `active` climbs; the balancer keeps active/weight level.
  const list = endpoints(2, 1, 3);
  const lc = new LeastConnectionsBalancer(list);
  for (let i = 0; i < 60; i++) lc.pick()!.active++;
  t.same(list.map((e) => e.active), [20, 10, 30]);
});

t.test('skipped endpoints are never returned, even when least loaded', async (t) => {
  const list = endpoints(1, 1, 1);
  const lc = new LeastConnectionsBalancer(list);
  list[1]!.active = 5;
  list[2]!.active = 7;
  t.equal(lc.pick(skipIds('a'))!.id, 'b');
  t.equal(lc.pick(skipIds('a', 'b'))!.id, 'c');
  t.equal(lc.pick(skipIds('a', 'b', 'c')), null);
  t.equal(new LeastConnectionsBalancer([]).pick(), null);
});
