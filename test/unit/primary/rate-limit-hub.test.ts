import t from 'tap';
import { RateLimitHub } from '../../../src/primary/rate-limit-hub.js';

t.test('all-or-nothing: a request refused by one limit spends nothing in the others', async (t) => {
  const hub = new RateLimitHub(100);
  const checks = (tag: string) => [
    { limit: { requests: 100, per: 'h' as const }, key: `long|${tag}` },
    { limit: { requests: 2, per: 'h' as const }, key: `short|${tag}` },
  ];
  const results = Array.from({ length: 10 }, () => hub.decide(checks('a')));
  t.same(results.map((v) => v.every((x) => x.allowed)), [true, true, false, false, false, false, false, false, false, false]);
  const last = results.at(-1)!;
  t.equal(last[0]!.remaining, 98, 'the long limit was charged only for the 2 admitted requests');
  t.ok(last[0]!.allowed, 'the long limit itself would have allowed');
  t.notOk(last[1]!.allowed);
  t.ok(last[1]!.retryAfterMs > 0 && last[1]!.retryAfterMs <= 1_800_000, 'retry after ≤ one refill interval');
});

// At most 8 checks: a route's 4 limits plus its service's 4.
t.test('malformed messages fail open with no verdicts', async (t) => {
  const hub = new RateLimitHub(10);
  for (const bad of [undefined, null, 'x', [null], [{ key: 'x' }], [{ limit: {}, key: 'k'.repeat(300) }], Array(10).fill({ limit: {}, key: 'x' })]) {
    t.same(hub.decide(bad), [], JSON.stringify(bad)?.slice(0, 40) ?? 'undefined');
  }
});
