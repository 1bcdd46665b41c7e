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

t.test('a batch is decided in order and answered in one message; malformed asks get no verdicts', async (t) => {
  const hub = new RateLimitHub(100);
  const sent: unknown[] = [];
  const worker = { isConnected: () => true, send: (m: unknown) => (sent.push(m), true) } as never;
  const one = [{ limit: { requests: 2, per: 'h' as const }, key: 'k' }];
  hub.takeBatch(worker, [{ id: 1, checks: one }, { id: 2, checks: one }, { id: 3, checks: 'bad' }, { nope: true }, { id: 4, checks: one }]);
  t.equal(sent.length, 1);
  const msg = sent[0] as { type: string; answers: { id: number; verdicts: { allowed: boolean }[] }[] };
  t.equal(msg.type, 'rate-limit-verdict-batch');
  t.same(msg.answers.map((a) => [a.id, a.verdicts.map((v) => v.allowed)]), [[1, [true]], [2, [true]], [3, []], [4, [false]]], 'the third take of a 2/h bucket is refused');
  hub.takeBatch(worker, 'not a batch');
  t.equal(sent.length, 1, 'a batch that is not a list gets no answer');
  const big = Array.from({ length: 1030 }, (_, i) => ({ id: 100 + i, checks: [{ limit: { requests: 10_000, per: 'h' as const }, key: 'big' }] }));
  hub.takeBatch(worker, big);
  const answers = (sent[1] as { answers: { id: number; verdicts: unknown[] }[] }).answers;
  t.equal(answers.length, 1030, 'an oversized batch is answered in full');
  t.equal(answers.filter((a) => a.verdicts.length === 1).length, 1024, 'decided up to RATE_LIMIT_MAX_BATCH');
  t.same(answers.slice(1024).map((a) => a.verdicts), Array(6).fill([]), 'the rest fail open at once, not after a timeout');
});
