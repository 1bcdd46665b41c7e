import t from 'tap';
import { RoundRobinBalancer } from '../../../../../src/worker/upstream/balancers/index.js';
import { endpoints, sequence, skipIds } from './helpers.js';

t.test('rotates through endpoints in list order, ignoring weights', async (t) => {
  const rr = new RoundRobinBalancer(endpoints(5, 1, 1));
  t.same(sequence(() => rr.pick(), 7), ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
});

t.test('skipped endpoints are never returned and do not advance the rotation twice', async (t) => {
  const rr = new RoundRobinBalancer(endpoints(1, 1, 1, 1));
  const skip = skipIds('b');
  t.same(sequence(() => rr.pick(skip), 6), ['a', 'c', 'd', 'a', 'c', 'd']);
  t.equal(rr.pick(skip)!.id, 'a');
  t.equal(rr.pick()!.id, 'b', 'once b is no longer skipped it is next after a');
});

t.test('a retry that skips the endpoint just tried gets the next one, and leaves the rotation alone', async (t) => {
  const rr = new RoundRobinBalancer(endpoints(1, 1, 1));
  const first = rr.pick()!;
  const second = rr.pick((e) => e === first, true)!;
  t.equal(first.id, 'a');
  t.equal(second.id, 'b');
  t.equal(rr.pick()!.id, 'b', 'the next request still starts at b: the retry did not use up its turn');
  t.equal(rr.pick()!.id, 'c');
});

t.test('a failing endpoint among two gets half of the first tries, not all of them', async (t) => {
  const rr = new RoundRobinBalancer(endpoints(1, 1));
  const firsts: string[] = [];
  for (let i = 0; i < 10; i++) {
    const first = rr.pick()!;
    firsts.push(first.id);
    if (first.id === 'a') rr.pick((e) => e === first, true); // a fails: retried on b
  }
  t.same(firsts, ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
});

t.test('all skipped or no endpoints gives null', async (t) => {
  const rr = new RoundRobinBalancer(endpoints(1, 1));
  t.equal(rr.pick(() => true), null);
  t.equal(rr.pick()!.id, 'a', 'a null pick leaves the rotation where it was');
  t.equal(new RoundRobinBalancer([]).pick(), null);
  t.equal(new RoundRobinBalancer([]).pick(() => false), null);
});

t.test('the caller mutating its array later does not affect the balancer', async (t) => {
  const list = endpoints(1, 1);
  const rr = new RoundRobinBalancer(list);
  list.length = 0;
  t.same(sequence(() => rr.pick(), 3), ['a', 'b', 'a']);
});
