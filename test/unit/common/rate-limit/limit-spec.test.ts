import fc from 'fast-check';
import t from 'tap';
import { parseLimit, TokenBucket } from '../../../../src/common/rate-limit/index.js';

const valid: [string, unknown, { capacity: number; refillTokens: number; refillIntervalMs: number; id: string }][] = [
  ['per second, burst defaults to requests', { requests: 10, per: 's' }, { capacity: 10, refillTokens: 10, refillIntervalMs: 1000, id: '10/1000ms burst 10' }],
  ['per minute with a larger burst', { requests: 10, per: 'm', burst: 20 }, { capacity: 20, refillTokens: 10, refillIntervalMs: 60_000, id: '10/60000ms burst 20' }],
  ['per hour', { requests: 1000, per: 'h' }, { capacity: 1000, refillTokens: 1000, refillIntervalMs: 3_600_000, id: '1000/3600000ms burst 1000' }],
  ['per day', { requests: 1, per: 'd' }, { capacity: 1, refillTokens: 1, refillIntervalMs: 86_400_000, id: '1/86400000ms burst 1' }],
  ['a burst smaller than requests smooths the rate', { requests: 100, per: 'm', burst: 5 }, { capacity: 5, refillTokens: 100, refillIntervalMs: 60_000, id: '100/60000ms burst 5' }],
  ['per as seconds', { requests: 5, per: 90 }, { capacity: 5, refillTokens: 5, refillIntervalMs: 90_000, id: '5/90000ms burst 5' }],
  ['per as a fraction of a second', { requests: 1, per: 0.5 }, { capacity: 1, refillTokens: 1, refillIntervalMs: 500, id: '1/500ms burst 1' }],
  ['0.1 s despite 0.1 × 1000 not being exactly 100 in floats', { requests: 1, per: 0.1 }, { capacity: 1, refillTokens: 1, refillIntervalMs: 100, id: '1/100ms burst 1' }],
  ['one millisecond', { requests: 1, per: 0.001 }, { capacity: 1, refillTokens: 1, refillIntervalMs: 1, id: '1/1ms burst 1' }],
  ['366 days is the longest period', { requests: 1, per: 31_622_400 }, { capacity: 1, refillTokens: 1, refillIntervalMs: 31_622_400_000, id: '1/31622400000ms burst 1' }],
  ['a large daily burst whose rate shares factors with the period', { requests: 1_000_000, per: 'd', burst: 100_000_000 }, { capacity: 100_000_000, refillTokens: 1_000_000, refillIntervalMs: 86_400_000, id: '1000000/86400000ms burst 100000000' }],
];

for (const [name, input, want] of valid) {
  t.test(`valid: ${name}`, async (t) => {
    const r = parseLimit(input);
    if (!r.ok) return t.fail(r.reason);
    t.match(r.limit, want);
    t.ok(Object.isFrozen(r.limit), 'frozen');
    t.notOk(r.limit.id.includes('|'), 'id never contains the store separator');
    t.doesNotThrow(() => new TokenBucket({ ...r.limit, clock: () => 0 }), 'builds a bucket as is');
  });
}

t.test('refillPerSecond is derived for display', async (t) => {
  const r = parseLimit({ requests: 10, per: 'm' });
  t.equal(r.ok && r.limit.refillPerSecond, 10 / 60);
});

const invalid: [string, unknown, string[]][] = [
  ['null', null, ['a limit must be an object', 'got null']],
  ['undefined', undefined, ['got undefined']],
  ['a string', '10/s', ["got '10/s'"]],
  ['an array', [10, 's'], ['got an array']],
  ['empty object', {}, ['requests is required', 'per is required']],
  ['zero requests', { requests: 0, per: 's' }, ['requests must be a whole number >= 1, got 0']],
  ['fractional requests', { requests: 1.5, per: 's' }, ['requests must be a whole number >= 1, got 1.5']],
  ['negative requests', { requests: -1, per: 's' }, ['got -1']],
  ['NaN requests', { requests: Number.NaN, per: 's' }, ['got NaN']],
  ['requests as a string', { requests: '10', per: 's' }, ["requests must be a whole number >= 1, got '10'"]],
  ['requests beyond safe integers', { requests: 2 ** 53, per: 's' }, ['requests must be a whole number']],
  ['unknown unit', { requests: 1, per: 'w' }, ["per must be 's', 'm', 'h', 'd' or a number of seconds, got 'w'"]],
  ['spelled-out unit', { requests: 1, per: 'second' }, ["got 'second'"]],
  ['zero period', { requests: 1, per: 0 }, ['positive number of seconds, got 0']],
  ['negative period', { requests: 1, per: -5 }, ['got -5']],
  ['infinite period', { requests: 1, per: Infinity }, ['got Infinity']],
  ['period below a millisecond', { requests: 1, per: 0.0005 }, ['per must be a whole number of milliseconds']],
  ['period not in whole ms', { requests: 1, per: 1.0005 }, ['whole number of milliseconds, got 1.0005 s']],
  ['period over 366 days', { requests: 1, per: 31_622_401 }, ['per must be at most 366 days']],
  ['zero burst', { requests: 1, per: 's', burst: 0 }, ['burst must be a whole number >= 1, got 0']],
  ['fractional burst', { requests: 1, per: 's', burst: 2.5 }, ['got 2.5']],
  ['null burst', { requests: 1, per: 's', burst: null }, ['burst must be a whole number >= 1, got null']],
  ['a typo in a key', { requests: 1, per: 's', brust: 5 }, ["unknown key 'brust'"]],
  ['burst × period too large to keep exact', { requests: 1, per: 'd', burst: 100_000_000 }, ['burst 100000000 is too large for 1 per 86400000 ms (at most 52124995)']],
  ['every problem at once', { requests: 0, per: 'x', burst: -1, extra: true }, ["unknown key 'extra'", 'requests must', 'per must', 'burst must']],
];

for (const [name, input, parts] of invalid) {
  t.test(`invalid: ${name}`, async (t) => {
    const r = parseLimit(input);
    if (r.ok) return t.fail(`accepted ${JSON.stringify(r.limit)}`);
    for (const part of parts) t.ok(r.reason.includes(part), `reason "${r.reason}" mentions "${part}"`);
  });
}

t.test('an object whose properties throw is refused, not thrown', async (t) => {
  const hostile = {
    get requests(): number {
      throw new Error('boom');
    },
    per: 's',
  };
  t.same(parseLimit(hostile), { ok: false, reason: 'the limit could not be read' });
});

t.test('never throws on any input, and whatever it accepts builds a bucket', async (t) => {
  const near = fc.record(
    {
      requests: fc.oneof(fc.integer({ min: -2, max: 1e9 }), fc.double(), fc.anything()),
      per: fc.oneof(fc.constantFrom('s', 'm', 'h', 'd', 'x'), fc.double({ min: -1, max: 4e7 }), fc.anything()),
      burst: fc.oneof(fc.integer({ min: -2, max: 1e12 }), fc.anything()),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(fc.anything(), near), (input) => {
      const r = parseLimit(input);
      if (r.ok) new TokenBucket({ ...r.limit, clock: () => 0 });
      else if (typeof r.reason !== 'string' || r.reason === '') throw new Error('empty reason');
    }),
  );
  t.pass('total');
});
