/**
 * Properties of `TokenBucket` over random limits and random sequences of (clock step,
 * take n): on whole-ms clocks it agrees exactly with a BigInt oracle (decisions, retry,
 * reset, remaining), and on any clock, including fractional and backward steps, the
 * tokens granted in any window never exceed burst + rate × window.
 */
import fc from 'fast-check';
import t from 'tap';
import { TokenBucket } from '../../../../src/common/rate-limit/index.js';
import { ExactBucket } from './exact-bucket.js';

const limitArb = fc.record({
  capacity: fc.integer({ min: 1, max: 20 }),
  refillTokens: fc.integer({ min: 1, max: 20 }),
  refillIntervalMs: fc.constantFrom(1, 7, 1000, 1500, 60_000, 3_600_000, 86_400_000),
});

const wholeStepArb = fc.oneof(
  fc.integer({ min: 0, max: 20 }),
  fc.integer({ min: 0, max: 5_000 }),
  fc.integer({ min: 0, max: 100_000_000 }),
  fc.integer({ min: -1_000, max: 0 }),
);

const anyStepArb = fc.oneof(wholeStepArb, fc.double({ min: -10, max: 5_000, noNaN: true }));

function opsArb(step: fc.Arbitrary<number>) {
  return fc.array(fc.record({ dt: step, n: fc.integer({ min: 0, max: 22 }) }), { maxLength: 100 });
}

t.test('on whole-ms clocks every decision equals the exact oracle', async (t) => {
  fc.assert(
    fc.property(limitArb, fc.integer({ min: 0, max: 1e9 }), opsArb(wholeStepArb), (limit, start, ops) => {
      let now = start;
      const b = new TokenBucket({ ...limit, clock: () => now });
      const exact = new ExactBucket(limit.capacity, limit.refillTokens, limit.refillIntervalMs, start);
      for (const { dt, n } of ops) {
        now += dt;
        const got = b.take(n);
        const want = exact.take(now, n);
        if (JSON.stringify(got) !== JSON.stringify(want) || got.retryAfterMs !== want.retryAfterMs) {
          throw new Error(`at ${now} take(${n}): got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        }
      }
    }),
  );
  t.pass('agrees with the oracle');
});

t.test('tokens granted in any window never exceed burst + rate × window', async (t) => {
  fc.assert(
    fc.property(limitArb, opsArb(anyStepArb), (limit, ops) => {
      let now = 1_000;
      const b = new TokenBucket({ ...limit, clock: () => now });
      // Grants at the bucket's own time: the clock's running maximum.
      const grants: { at: number; n: number }[] = [];
      let seen = now;
      for (const { dt, n } of ops) {
        now += dt;
        seen = Math.max(seen, now);
        if (b.take(n).allowed && n > 0) grants.push({ at: seen, n });
      }
      const { capacity: c, refillTokens: r, refillIntervalMs: p } = limit;
      for (let i = 0; i < grants.length; i++) {
        let taken = 0;
        for (let j = i; j < grants.length; j++) {
          taken += grants[j]!.n;
          const window = grants[j]!.at - grants[i]!.at;
          // taken ≤ c + r·window/p, kept in integers; 1e-6 ms of slack covers the
          // rounding of a fractional clock reading, not any systematic excess.
          if (taken * p > c * p + r * (window + 1e-6)) {
            throw new Error(`${taken} tokens in ${window} ms exceeds ${c} + ${r}/${p} ms`);
          }
        }
      }
    }),
  );
  t.pass('bound holds');
});

t.test('waiting exactly retryAfterMs makes a refused take succeed, one ms less does not', async (t) => {
  fc.assert(
    fc.property(limitArb, opsArb(wholeStepArb), fc.integer({ min: 1, max: 20 }), (limit, ops, n0) => {
      const n = Math.min(n0, limit.capacity);
      let now = 0;
      const clock = () => now;
      const b = new TokenBucket({ ...limit, clock });
      for (const op of ops) {
        now += Math.max(0, op.dt);
        b.take(op.n);
      }
      const d = b.take(n);
      if (d.allowed) return;
      if (!(d.retryAfterMs >= 1)) throw new Error(`refused with retryAfterMs ${d.retryAfterMs}`);
      // A refused take costs nothing, so probing one ms early does not disturb the bucket.
      const start = now;
      now = start + d.retryAfterMs - 1;
      if (b.take(n).allowed) throw new Error('granted one ms before retryAfterMs');
      now = start + d.retryAfterMs;
      if (!b.take(n).allowed) throw new Error('refused after retryAfterMs');
    }),
  );
  t.pass('retryAfterMs is exact');
});
