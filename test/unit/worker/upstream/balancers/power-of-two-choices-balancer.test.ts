import t from 'tap';
import { PowerOfTwoChoicesBalancer, type Endpoint } from '../../../../../src/worker/upstream/balancers/index.js';
import { endpoints, scripted, seeded, skipIds, tally } from './helpers.js';

/** Draws that make the balancer take candidates `a` then `b` out of `n` (b !== a). */
function drawsFor(a: number, b: number, n: number): number[] {
  return [(a + 0.5) / n, ((b > a ? b - 1 : b) + 0.5) / (n - 1)];
}

t.test('never picks the busier of its two candidates', async (t) => {
  const list = endpoints(1, 1, 1, 1);
  [3, 0, 2, 1].forEach((active, i) => (list[i]!.active = active));
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      if (a === b) continue;
      const p2c = new PowerOfTwoChoicesBalancer(list, scripted(...drawsFor(a, b, 4)));
      const want = list[a]!.active < list[b]!.active ? list[a] : list[b];
      t.equal(p2c.pick(), want, `candidates ${list[a]!.id}, ${list[b]!.id}`);
    }
  }
});

t.test('compares active / weight', async (t) => {
  const list = endpoints(3, 1);
  list[0]!.active = 2; // 0.67 per weight
  list[1]!.active = 1; // 1 per weight
  t.equal(new PowerOfTwoChoicesBalancer(list, scripted(...drawsFor(1, 0, 2))).pick()!.id, 'a');
  t.equal(new PowerOfTwoChoicesBalancer(list, scripted(...drawsFor(0, 1, 2))).pick()!.id, 'a');
});

t.test('the two candidates are distinct: of two endpoints the idle one always wins', async (t) => {
  const list = endpoints(1, 1);
  list[1]!.active = 5;
  const p2c = new PowerOfTwoChoicesBalancer(list, seeded(1));
  t.same(tally(() => p2c.pick(), 1000), { a: 1000 });
});

t.test('the busiest endpoint is never picked, and idle ones share evenly', async (t) => {
  const list = endpoints(1, 1, 1, 1);
  list[3]!.active = 10;
  const p2c = new PowerOfTwoChoicesBalancer(list, seeded(9));
  const n = 30_000;
  const counts = tally(() => p2c.pick(), n);
  t.notOk('d' in counts, JSON.stringify(counts));
  for (const id of ['a', 'b', 'c']) t.ok(Math.abs(counts[id]! / n - 1 / 3) < 0.02, `${id}: ${JSON.stringify(counts)}`);
});

t.test('candidates come from eligible endpoints only', async (t) => {
  const list = endpoints(1, 1, 1, 1);
  [0, 0, 5, 9].forEach((active, i) => (list[i]!.active = active));
  const p2c = new PowerOfTwoChoicesBalancer(list, seeded(5));
  const counts = tally(() => p2c.pick(skipIds('a', 'b')), 1000);
  t.same(counts, { c: 1000 }, 'of c and d, c is less busy');
});

t.test('one eligible endpoint is returned as is, without drawing', async (t) => {
  const list: Endpoint[] = endpoints(1, 1, 1);
  list[1]!.active = 100;
  t.equal(new PowerOfTwoChoicesBalancer(list, scripted()).pick(skipIds('a', 'c'))!.id, 'b');
  t.equal(new PowerOfTwoChoicesBalancer(list.slice(0, 1), scripted()).pick()!.id, 'a');
});

t.test('all skipped or no endpoints gives null', async (t) => {
  t.equal(new PowerOfTwoChoicesBalancer(endpoints(1, 1), scripted()).pick(() => true), null);
  t.equal(new PowerOfTwoChoicesBalancer([], scripted()).pick(), null);
});

t.test('out-of-range draws from an injected source still return an endpoint', async (t) => {
  const p2c = new PowerOfTwoChoicesBalancer(endpoints(1, 1, 1), scripted(1, 1, NaN, -1, 1, NaN));
  t.ok(p2c.pick());
  t.ok(p2c.pick());
  t.ok(p2c.pick(skipIds('b')));
});
