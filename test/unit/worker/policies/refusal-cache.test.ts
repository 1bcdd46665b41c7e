/** The worker's refusal cache: repeated over-limit requests are refused without asking the primary, never wrongly. */
import t from 'tap';
import { RateLimitHub } from '../../../../src/primary/rate-limit-hub.js';
import { RefusalCache } from '../../../../src/worker/policies/index.js';
import type { RateLimitCheck, RateLimitVerdict } from '../../../../src/ipc/index.js';
import { testClient } from '../../../helpers/http.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';

const checks = (client: string, requests = 2, per: RateLimitCheck['limit']['per'] = 's'): RateLimitCheck[] => [
  { limit: { requests, per }, key: `route#0|${client}` },
];

/** An inner ask that answers from a script and counts its calls. */
function scripted(answers: (RateLimitVerdict[] | null)[]) {
  const seen: RateLimitCheck[][] = [];
  const ask = async (c: RateLimitCheck[]) => {
    seen.push(c);
    return answers.shift() ?? null;
  };
  return { ask, seen };
}

const refused = (retryAfterMs: number, resetMs = retryAfterMs): RateLimitVerdict => ({ allowed: false, remaining: 0, retryAfterMs, resetMs });
const allowed = (remaining: number): RateLimitVerdict => ({ allowed: true, remaining, retryAfterMs: 0, resetMs: 300 });

t.test('a refusal is answered locally until its refill time, with the waits counted down', async (t) => {
  let now = 1_000;
  const inner = scripted([[refused(500, 900)], [allowed(0)]]);
  const cache = new RefusalCache(inner.ask, { clock: () => now });
  t.same(await cache.ask(checks('a')), [refused(500, 900)], 'the first refusal comes from the primary');
  now += 200.6;
  t.same(await cache.ask(checks('a')), [{ allowed: false, remaining: 0, retryAfterMs: 300, resetMs: 700 }], 'then locally, 200 ms later');
  t.equal(inner.seen.length, 1, 'without asking the primary again');
  now = 1_000 + 498.9;
  t.equal((await cache.ask(checks('a')))![0]!.allowed, false, 'still refused just before the window closes');
  t.equal(inner.seen.length, 1);
  now = 1_000 + 499;
  t.same(await cache.ask(checks('a')), [allowed(0)], 'the window closes one ms before the reported refill time: the primary is asked again');
  t.equal(inner.seen.length, 2);
  t.equal(cache.size, 0, 'the expired entry is gone');
});

t.test('allowed answers, unanswered asks and never-admissible refusals are not remembered', async (t) => {
  const inner = scripted([[allowed(1)], [allowed(1)], null, null, [refused(-1)], [refused(-1)], [refused(1)], [refused(1)]]);
  const cache = new RefusalCache(inner.ask, { clock: () => 0 });
  for (let i = 0; i < 8; i++) await cache.ask(checks('a'));
  t.equal(inner.seen.length, 8, 'every ask reached the primary');
  t.equal(cache.size, 0);
});

t.test('a set refused by all its limits waits for the earliest refill; a set one limit admitted is not kept', async (t) => {
  let now = 0;
  const two: RateLimitCheck[] = [
    { limit: { requests: 2, per: 's' }, key: 'r#1|a' },
    { limit: { requests: 1, per: 'm' }, key: 's#0|a' },
  ];
  const three: RateLimitCheck[] = [{ limit: { requests: 100, per: 'h' }, key: 'r#0|a' }, ...two];
  const inner = scripted([[refused(400), refused(20_000)], [refused(20_000)], [allowed(50), refused(300), refused(19_000)], [allowed(50), refused(300), refused(19_000)]]);
  const cache = new RefusalCache(inner.ask, { clock: () => now });
  await cache.ask(two);
  now = 100;
  const local = (await cache.ask(two))!;
  t.same(local.map((v) => [v.allowed, v.retryAfterMs]), [[false, 300], [false, 19_900]], 'verdicts keep their order, waits counted down');
  t.equal(inner.seen.length, 1);
  await cache.ask([two[1]!]);
  t.equal(inner.seen.length, 2, 'the same bucket inside another check set is a different question');
  await cache.ask(three);
  await cache.ask(three);
  t.equal(inner.seen.length, 4, 'the hourly limit still had tokens, which other requests may spend: not kept');
  now = 399;
  await cache.ask(two);
  t.equal(inner.seen.length, 5, 'the first limit could admit again at 400 ms: asked from 399 ms on');
});

t.test('the limit shape is part of the key: a reload that changes a limit asks afresh', async (t) => {
  const inner = scripted([[refused(10_000)], [allowed(99)]]);
  const cache = new RefusalCache(inner.ask, { clock: () => 0 });
  await cache.ask(checks('a', 2, 's'));
  t.same(await cache.ask(checks('a', 100, 's')), [allowed(99)]);
  t.equal(inner.seen.length, 2);
});

t.test('a key remembered twice (concurrent asks) replaces its own entry, pushing out no other', async (t) => {
  const inner = scripted([[refused(60_000)], [refused(60_000)], [refused(60_000)]]);
  const cache = new RefusalCache(inner.ask, { clock: () => 0, maxEntries: 2 });
  await cache.ask(checks('b'));
  await Promise.all([cache.ask(checks('a')), cache.ask(checks('a'))]); // both asked before either answer
  t.equal(inner.seen.length, 3);
  await cache.ask(checks('b'));
  t.equal(inner.seen.length, 3, 'b is still remembered');
  t.equal(cache.size, 2);
});

t.test('entries are bounded: the oldest refusal goes first', async (t) => {
  const inner = scripted(Array.from({ length: 10 }, () => [refused(60_000)]));
  const cache = new RefusalCache(inner.ask, { clock: () => 0, maxEntries: 3 });
  for (const c of ['a', 'b', 'c', 'd']) await cache.ask(checks(c));
  t.equal(cache.size, 3);
  await cache.ask(checks('d'));
  await cache.ask(checks('b'));
  t.equal(inner.seen.length, 4, 'b and d are still remembered');
  await cache.ask(checks('a'));
  t.equal(inner.seen.length, 5, 'a, the oldest, was pushed out and is asked again');
});

/**
 * Against the primary's real buckets: two hubs on one clock see the same requests, one
 * through the cache and one directly. Were a cached refusal ever wrong, the hubs would
 * part (the direct one would admit and charge); the cached waits must never be shorter
 * than the direct ones (a client that waits what it is told is not refused for being early).
 */
t.test('cached answers equal the primary\'s on a random request stream', async (t) => {
  let now = 0;
  const clock = () => now;
  const viaCache = new RateLimitHub(100, clock);
  const direct = new RateLimitHub(100, clock);
  let asked = 0;
  const cache = new RefusalCache(async (c) => (asked++, viaCache.decide(c)), { clock });
  const sets: RateLimitCheck[][] = [
    [{ limit: { requests: 5, per: 's' }, key: 'x' }],
    [{ limit: { requests: 5, per: 's' }, key: 'x' }, { limit: { requests: 3, per: 2_000 }, key: 'y' }],
    [{ limit: { requests: 50, per: 'm', burst: 3 }, key: 'z' }],
  ];
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  let local = 0;
  let refusedCount = 0;
  for (let i = 0; i < 5_000; i++) {
    now += random() * random() * 40;
    const set = sets[Math.floor(random() * sets.length)]!;
    const before = asked;
    const got = (await cache.ask(set))!;
    const want = direct.decide(set);
    if (asked === before) local++;
    if (!want.every((v) => v.allowed)) refusedCount++;
    for (let k = 0; k < want.length; k++) {
      if (got[k]!.allowed !== want[k]!.allowed) {
        t.fail(`request ${i} at ${now.toFixed(2)} ms: cached ${JSON.stringify(got)} but the primary says ${JSON.stringify(want)}`);
        return;
      }
      if (!want[k]!.allowed && !(got[k]!.retryAfterMs >= want[k]!.retryAfterMs && got[k]!.retryAfterMs <= want[k]!.retryAfterMs + 1)) {
        t.fail(`request ${i}: cached wait ${got[k]!.retryAfterMs} ms, the primary's ${want[k]!.retryAfterMs} ms`);
        return;
      }
    }
  }
  t.ok(refusedCount > 1_000, `the stream is mostly over the limits (${refusedCount} of 5000 refused)`);
  t.ok(local > refusedCount / 2, `most refusals were answered locally (${local})`);
});

t.test('through the pipeline: a locally refused request gets the same 429 and headers as the first refusal', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('s', [up.url])], [route('r', ['/r'], 's', { rateLimits: [{ requests: 1, per: 'h', key: 'ip' }] })]),
  );
  t.teardown(() => gw.close());
  const { call } = testClient(t);
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await call(`${gw.url}/r`));
  t.same(answers.map((a) => a.status), [200, 429, 429]);
  t.equal(up.seen.length, 1);
  const pick = (h: Record<string, unknown>) =>
    Object.fromEntries(['ratelimit-policy', 'ratelimit', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after', 'content-type'].map((k) => [k, h[k]]));
  t.same(pick(answers[2]!.headers), pick(answers[1]!.headers), 'the cached refusal reads like the primary\'s');
  t.equal(pick(answers[2]!.headers)['retry-after'], '3600');
  t.match(JSON.parse(answers[2]!.text), { error: { code: 'GW_RATE_LIMITED' } });
  const page = await gw.registry.metrics();
  t.match(page, /^gateway_rate_limit_local_refusals_total 1$/m, 'the second refusal did not ask the primary');
  t.match(page, /^gateway_rate_limit_decisions_total\{route="r",decision="limited"\} 2$/m, 'and still counts as a limited decision');
});
