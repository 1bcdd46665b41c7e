import t from 'tap';
import { SmoothWeightedRoundRobinBalancer } from '../../../../../src/worker/upstream/balancers/index.js';
import { endpoints, seeded, sequence, skipIds, tally } from './helpers.js';

t.test('weights 5, 1, 1 give the nginx sequence a a b a c a a, then repeat', async (t) => {
  const wrr = new SmoothWeightedRoundRobinBalancer(endpoints(5, 1, 1));
  const once = ['a', 'a', 'b', 'a', 'c', 'a', 'a'];
  t.same(sequence(() => wrr.pick(), 14), [...once, ...once]);
});

t.test('equal weights degrade to plain round robin', async (t) => {
  const wrr = new SmoothWeightedRoundRobinBalancer(endpoints(3, 3, 3));
  t.same(sequence(() => wrr.pick(), 6), ['a', 'b', 'c', 'a', 'b', 'c']);
});

t.test('every window of `total` picks holds each endpoint exactly `weight` times', async (t) => {
  const weights = [4, 3, 2, 1, 7];
  const total = weights.reduce((a, b) => a + b);
  const wrr = new SmoothWeightedRoundRobinBalancer(endpoints(...weights));
  const seq = sequence(() => wrr.pick(), total * 5);
  for (let start = 0; start + total <= seq.length; start += 3) {
    const counts: Record<string, number> = {};
    for (const id of seq.slice(start, start + total)) counts[id] = (counts[id] ?? 0) + 1;
    t.same(counts, { a: 4, b: 3, c: 2, d: 1, e: 7 }, `window at ${start}`);
  }
});

t.test('picks are interleaved, not bunched: no endpoint repeats beyond its share', async (t) => {
  // weights 1, 1, 8: plain WRR would emit c eight times in a row.
  const wrr = new SmoothWeightedRoundRobinBalancer(endpoints(1, 1, 8));
  const seq = sequence(() => wrr.pick(), 10).join('');
  t.notMatch(seq, /c{5}/);
  t.equal(seq.replace(/c/g, '').length, 2);
});

t.test('a skipped endpoint does not distort the shares of the others', async (t) => {
  const wrr = new SmoothWeightedRoundRobinBalancer(endpoints(5, 1, 1));
  // Start mid-cycle so the scores are not all zero when c goes away.
  sequence(() => wrr.pick(), 3);
  const skipC = skipIds('c');
  const seq = sequence(() => wrr.pick(skipC), 600);
  t.notOk(seq.includes('c'));
  // Exactly 5:1 in every 6 picks once the start-up window is over.
  for (let start = 12; start + 6 <= seq.length; start += 6) {
    t.equal(seq.slice(start, start + 6).filter((id) => id === 'a').length, 5, `window at ${start}`);
  }
  // c comes back with its old score and the 5:1:1 shares resume.
  const after = tally(() => wrr.pick(), 700);
  t.ok(Math.abs(after.a! - 500) <= 2 && Math.abs(after.b! - 100) <= 2 && Math.abs(after.c! - 100) <= 2, JSON.stringify(after));
});

t.test('intermittent skips (retries) keep overall shares close to the weights', async (t) => {
  // One request in ten is retried, skipping the endpoint it just got. Frozen scores mean
  // the retry neither rewards nor penalises the skipped endpoint beyond that one pick.
  const wrr = new SmoothWeightedRoundRobinBalancer(endpoints(3, 2, 1));
  const rnd = seeded(7);
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  let retriedOntoSame = 0;
  for (let i = 0; i < 6000; i++) {
    const first = wrr.pick()!;
    counts[first.id]!++;
    if (rnd() < 0.1) {
      const retry = wrr.pick((e) => e === first)!;
      if (retry === first) retriedOntoSame++;
      counts[retry.id]!++;
    }
  }
  t.equal(retriedOntoSame, 0, 'a retry never gets the endpoint it skipped');
  const picks = counts.a! + counts.b! + counts.c!;
  const shares = `${JSON.stringify(counts)} of ${picks}`;
  t.ok(Math.abs(counts.a! / picks - 3 / 6) < 0.02, shares);
  t.ok(Math.abs(counts.b! / picks - 2 / 6) < 0.02, shares);
  t.ok(Math.abs(counts.c! / picks - 1 / 6) < 0.02, shares);
});

t.test('all skipped or no endpoints gives null; a null pick changes no score', async (t) => {
  const wrr = new SmoothWeightedRoundRobinBalancer(endpoints(5, 1, 1));
  t.equal(wrr.pick(() => true), null);
  t.same(sequence(() => wrr.pick(), 7), ['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  t.equal(new SmoothWeightedRoundRobinBalancer([]).pick(), null);
});

t.test('invalid weights count as 1 instead of breaking the arithmetic', async (t) => {
  const wrr = new SmoothWeightedRoundRobinBalancer(endpoints(0, NaN, -3, Infinity));
  t.same(sequence(() => wrr.pick(), 8), ['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd']);
});
