/** The worker's IPC client for node-wide rate limits: one message per ask, or one per event-loop turn when batching. */
import t from 'tap';
import { RateLimitClient } from '../../../../src/worker/policies/index.js';
import type { FromWorker, RateLimitCheck } from '../../../../src/ipc/index.js';

const check = (key: string): RateLimitCheck[] => [{ limit: { requests: 5, per: 's' }, key }];
const ok = { allowed: true, remaining: 4, retryAfterMs: 0, resetMs: 200 };
const turn = () => new Promise((r) => setImmediate(r));

t.test('without batching every ask is its own rate-limit-take message', async (t) => {
  const sent: FromWorker[] = [];
  const client = new RateLimitClient((m) => (sent.push(m), true));
  const a = client.ask(check('a'));
  const b = client.ask(check('b'));
  t.same(sent.map((m) => m.type), ['rate-limit-take', 'rate-limit-take'], 'sent at once, one each');
  for (const m of sent) if (m.type === 'rate-limit-take') client.answer(m.id, [ok]);
  t.same(await Promise.all([a, b]), [[ok], [ok]]);
});

t.test('with batching the asks of one turn go in one message, answered in one', async (t) => {
  const sent: FromWorker[] = [];
  const client = new RateLimitClient((m) => (sent.push(m), true));
  client.batching(true);
  const asks = ['a', 'b', 'c'].map((k) => client.ask(check(k)));
  t.equal(sent.length, 0, 'nothing sent before the turn ends');
  await turn();
  t.equal(sent.length, 1);
  const batch = sent[0]!;
  if (batch.type !== 'rate-limit-take-batch') throw new Error(`expected a batch, got ${batch.type}`);
  t.same(batch.asks.map((a) => a.checks[0]!.key), ['a', 'b', 'c'], 'in the order asked');
  const deny = { allowed: false, remaining: 0, retryAfterMs: 120, resetMs: 900 };
  client.answerBatch(batch.asks.map((a, i) => ({ id: a.id, verdicts: i === 1 ? [deny] : [ok] })));
  t.same(await Promise.all(asks), [[ok], [deny], [ok]], 'each ask gets its own verdicts');

  const single = client.ask(check('d'));
  await turn();
  t.equal(sent[1]!.type, 'rate-limit-take', 'a turn with one ask sends the plain message');
  if (sent[1]!.type === 'rate-limit-take') client.answer(sent[1]!.id, [ok]);
  t.same(await single, [ok]);
});

t.test('a batch that cannot be sent, or is never answered, fails open (null) for each ask', async (t) => {
  const down = new RateLimitClient(() => false);
  down.batching(true);
  const lost = [down.ask(check('a')), down.ask(check('b'))];
  await turn();
  t.same(await Promise.all(lost), [null, null], 'IPC down: every ask settles null at once');

  const silent = new RateLimitClient(() => true, 30);
  silent.batching(true);
  const started = Date.now();
  t.same(await Promise.all([silent.ask(check('a')), silent.ask(check('b'))]), [null, null], 'no answer: null after the timeout');
  t.ok(Date.now() - started >= 25);
  silent.answerBatch([{ id: 1, verdicts: [ok] }]);
  silent.answerBatch('garbage' as never);
  t.pass('late and malformed answers are ignored');
});
