import t from 'tap';
import { TokenBucket } from '../../../../src/common/rate-limit/index.js';
import { ExactBucket } from './exact-bucket.js';

/** A hand-driven clock in ms. */
function manualClock(start = 0): { now: number; clock: () => number } {
  const c = { now: start, clock: () => c.now };
  return c;
}

function bucket(capacity: number, refillTokens: number, refillIntervalMs: number, start = 0) {
  const c = manualClock(start);
  return { c, b: new TokenBucket({ capacity, refillTokens, refillIntervalMs, clock: c.clock }) };
}

t.test('a new bucket grants its burst at once, then refuses with exact retry and reset', async (t) => {
  const { b } = bucket(3, 2, 1000);
  t.same(b.take(), { allowed: true, remaining: 2, retryAfterMs: 0, resetMs: 500 });
  t.same(b.take(), { allowed: true, remaining: 1, retryAfterMs: 0, resetMs: 1000 });
  t.same(b.take(), { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 1500 });
  t.same(b.take(), { allowed: false, remaining: 0, retryAfterMs: 500, resetMs: 1500 });
});

t.test('after the burst, exactly one take per refill interval succeeds', async (t) => {
  const { c, b } = bucket(3, 2, 1000);
  for (let i = 0; i < 3; i++) b.take();
  let allowed = 0;
  const at: number[] = [];
  for (c.now = 1; c.now <= 10_000; c.now++) {
    if (b.take().allowed) {
      allowed++;
      at.push(c.now);
    }
  }
  t.equal(allowed, 20, '2 per second for 10 s');
  t.same(at.slice(0, 4), [500, 1000, 1500, 2000]);
});

t.test('retryAfterMs is the least whole ms after which the take succeeds', async (t) => {
  const { c, b } = bucket(2, 2, 1000);
  b.take();
  b.take();
  t.equal(b.take().retryAfterMs, 500);
  c.now = 499;
  t.same(b.take(), { allowed: false, remaining: 0, retryAfterMs: 1, resetMs: 501 });
  c.now = 500;
  t.equal(b.take().allowed, true);
});

t.test('a rate with no exact float (10/min = 1/6 per s) still refills exactly on time', async (t) => {
  const { c, b } = bucket(1, 10, 60_000);
  t.equal(b.take().allowed, true);
  const d = b.take();
  t.same(d, { allowed: false, remaining: 0, retryAfterMs: 6000, resetMs: 6000 });
  c.now = 5999;
  t.same(b.take(), { allowed: false, remaining: 0, retryAfterMs: 1, resetMs: 1 });
  c.now = 6000;
  t.equal(b.take().allowed, true);
});

t.test('a period that is not a multiple of the rate rounds the wait up, and refills 3 per 1000 ms exactly', async (t) => {
  const { c, b } = bucket(2, 3, 1000);
  b.take(2);
  t.equal(b.take().retryAfterMs, 334, '333.3 ms rounded up');
  const grants: number[] = [];
  for (c.now = 1; c.now <= 1000; c.now++) if (b.take().allowed) grants.push(c.now);
  t.same(grants, [334, 667, 1000], 'tokens at 333.3, 666.7 and 1000 ms: fractions carried, not lost');
});

t.test('tokens beyond capacity are discarded, so a full bucket does not bank the fraction', async (t) => {
  const { c, b } = bucket(1, 3, 1000);
  b.take();
  c.now = 334; // the bucket was full at 333.3 ms; the 0.7 ms since then minted nothing it can keep
  t.equal(b.take().allowed, true);
  c.now = 667;
  t.same(b.take(), { allowed: false, remaining: 0, retryAfterMs: 1, resetMs: 1 });
  c.now = 668;
  t.equal(b.take().allowed, true);
});

t.test('no drift: fractional clock steps over a minute grant exactly burst + rate × window', async (t) => {
  const { c, b } = bucket(1, 10, 60_000);
  const at: number[] = [];
  // 0.25 ms steps are exact in binary, so the expected grant times are exact too.
  for (let i = 0; i <= 240_000; i++) {
    c.now = i / 4;
    if (b.take().allowed) at.push(c.now);
  }
  t.same(at, [0, 6000, 12000, 18000, 24000, 30000, 36000, 42000, 48000, 54000, 60000]);

  // 0.3 ms steps are not exact in binary and never land on the boundaries: each grant
  // must still come at the first step past k × 6000 ms. Refilling step by step would
  // floor away ~0.15 ms per ms here and fall further behind with every token.
  const slow = bucket(1, 10, 60_000);
  const late: number[] = [];
  for (let i = 0; i * 0.3 <= 60_000; i++) {
    slow.c.now = i * 0.3;
    if (slow.b.take().allowed) late.push(slow.c.now - 6000 * late.length);
  }
  t.equal(late.length, 11);
  t.ok(late.every((d) => d >= 0 && d < 0.3 + 1e-9), `each grant within one step of its due time: ${late.join(', ')}`);
});

t.test('resetMs counts down to a full bucket and is 0 once full', async (t) => {
  const { c, b } = bucket(10, 1, 1000);
  t.equal(b.take(4).resetMs, 4000);
  c.now = 1500;
  t.equal(b.take(0).resetMs, 2500);
  c.now = 4000;
  t.same(b.take(0), { allowed: true, remaining: 10, retryAfterMs: 0, resetMs: 0 });
});

t.test('take(n) is all or nothing; n = 0 only reads; n > capacity can never succeed', async (t) => {
  const { c, b } = bucket(5, 1, 1000);
  t.same(b.take(3), { allowed: true, remaining: 2, retryAfterMs: 0, resetMs: 3000 });
  t.same(b.take(3), { allowed: false, remaining: 2, retryAfterMs: 1000, resetMs: 3000 }, 'nothing taken');
  t.same(b.take(2), { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 5000 });
  t.same(b.take(0), { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 5000 });
  const tooBig = b.take(6);
  t.equal(tooBig.allowed, false);
  t.equal(tooBig.retryAfterMs, Infinity);
  c.now = 1000;
  t.equal(b.take(1).allowed, true, 'the refused take cost nothing');
});

t.test('a clock stepping back mints nothing and refunds nothing; refill resumes when it catches up', async (t) => {
  const { c, b } = bucket(2, 1, 1000, 10_000);
  b.take(2);
  c.now = 0;
  t.same(b.take(), { allowed: false, remaining: 0, retryAfterMs: 1000, resetMs: 2000 }, 'time stands still at 10 000');
  c.now = 10_999;
  t.equal(b.take().allowed, false, 'the 10 s spent going back and forth are not credited');
  c.now = 11_000;
  t.equal(b.take().allowed, true);
  c.now = Number.NaN;
  t.equal(b.take().allowed, false, 'a NaN reading counts as the last one');
});

t.test('fullAt is when the bucket will be full, or the last use while full', async (t) => {
  const { c, b } = bucket(4, 2, 1000, 100);
  t.equal(b.fullAt, 100);
  b.take(3);
  t.equal(b.fullAt, 1600);
  c.now = 5000;
  t.equal(b.fullAt, 1600, 'unchanged by time alone');
  b.take(0);
  t.equal(b.fullAt, 5000);
});

t.test('long saturated runs past the anchor move still match the exact oracle', async (t) => {
  // 3 per 7 ms with a huge burst: mints 3 credits/ms, so the 2^40-credit re-anchor
  // happens every ~3.7e11 ms; steps of ~1e11 ms cross it several times without ever filling.
  const capacity = 100_000_000_000_000;
  const { c, b } = bucket(capacity, 3, 7);
  const exact = new ExactBucket(capacity, 3, 7, 0);
  t.same(b.take(capacity), exact.take(0, capacity));
  for (let i = 1; i <= 40; i++) {
    c.now += 100_000_000_003;
    const n = 42_857_142_858 + (i % 3) - 1; // about one step's refill, sometimes one too many
    t.same(b.take(n), exact.take(c.now, n), `step ${i}`);
  }
});

t.test('the default clock is performance.now', async (t) => {
  const b = new TokenBucket({ capacity: 1, refillTokens: 1, refillIntervalMs: 3_600_000 });
  t.equal(b.take().allowed, true);
  const d = b.take();
  t.equal(d.allowed, false);
  t.ok(d.retryAfterMs > 3_500_000 && d.retryAfterMs <= 3_600_000);
});

t.test('invalid shapes and takes are programming errors and throw RangeError', async (t) => {
  const ok = { capacity: 1, refillTokens: 1, refillIntervalMs: 1 };
  for (const bad of [{ capacity: 0 }, { capacity: 1.5 }, { refillTokens: 0 }, { refillIntervalMs: Number.NaN }, { capacity: 2 ** 52 + 2 }]) {
    t.throws(() => new TokenBucket({ ...ok, ...bad }), RangeError, JSON.stringify(bad));
  }
  t.throws(() => new TokenBucket({ ...ok, clock: () => Number.NaN }), RangeError);
  const b = new TokenBucket(ok);
  for (const n of [-1, 0.5, Number.NaN, Infinity]) t.throws(() => b.take(n), RangeError, String(n));
});
