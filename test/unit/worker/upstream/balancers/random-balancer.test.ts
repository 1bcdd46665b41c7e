import t from 'tap';
import { RandomBalancer } from '../../../../../src/worker/upstream/balancers/index.js';
import { endpoints, scripted, seeded, skipIds, tally } from './helpers.js';

t.test('a draw maps onto the weight slices in list order', async (t) => {
  // weights 1, 2, 1: a = [0, .25), b = [.25, .75), c = [.75, 1)
  const draws = [0, 0.249, 0.25, 0.74, 0.75, 0.999];
  const rb = new RandomBalancer(endpoints(1, 2, 1), scripted(...draws));
  t.same(draws.map(() => rb.pick()!.id), ['a', 'a', 'b', 'b', 'c', 'c']);
});

t.test('with skip, the draw is scaled to the eligible weights only', async (t) => {
  // b skipped: a = [0, .5), c = [.5, 1); b's share is not handed to a neighbour.
  const draws = [0, 0.49, 0.5, 0.999];
  const rb = new RandomBalancer(endpoints(1, 2, 1), scripted(...draws));
  const skip = skipIds('b');
  t.same(draws.map(() => rb.pick(skip)!.id), ['a', 'a', 'c', 'c']);
});

t.test('shares over many seeded picks follow the weights', async (t) => {
  const rb = new RandomBalancer(endpoints(1, 2, 7), seeded(42));
  const n = 100_000;
  const counts = tally(() => rb.pick(), n);
  t.ok(Math.abs(counts.a! / n - 0.1) < 0.01, JSON.stringify(counts));
  t.ok(Math.abs(counts.b! / n - 0.2) < 0.01, JSON.stringify(counts));
  t.ok(Math.abs(counts.c! / n - 0.7) < 0.01, JSON.stringify(counts));
});

t.test('shares among the eligible stay proportional when some are skipped', async (t) => {
  const rb = new RandomBalancer(endpoints(1, 5, 3), seeded(3));
  const n = 100_000;
  const counts = tally(() => rb.pick(skipIds('b')), n);
  t.notOk('b' in counts);
  t.ok(Math.abs(counts.a! / n - 0.25) < 0.01, JSON.stringify(counts));
  t.ok(Math.abs(counts.c! / n - 0.75) < 0.01, JSON.stringify(counts));
});

t.test('out-of-range draws from an injected source still return an endpoint', async (t) => {
  const bad = [1, 1.5, -0.1, NaN, 1, NaN];
  const rb = new RandomBalancer(endpoints(1, 1, 1), scripted(...bad));
  for (let i = 0; i < 3; i++) t.ok(rb.pick(), `draw ${bad[i]}`);
  for (let i = 3; i < 6; i++) t.ok(rb.pick(skipIds('a')), `draw ${bad[i]} with skip`);
});

t.test('all skipped or no endpoints gives null without drawing', async (t) => {
  const rb = new RandomBalancer(endpoints(1, 1), scripted());
  t.equal(rb.pick(() => true), null);
  t.equal(new RandomBalancer([], scripted()).pick(), null);
});
