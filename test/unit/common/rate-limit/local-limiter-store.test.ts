import fc from 'fast-check';
import t from 'tap';
import {
  DEFAULT_MAX_KEYS,
  LocalLimiterStore,
  parseLimit,
  TokenBucket,
  type Decision,
  type LimiterStore,
  type LimitSpec,
  type ParsedLimit,
} from '../../../../src/common/rate-limit/index.js';

function limit(spec: LimitSpec): ParsedLimit {
  const r = parseLimit(spec);
  if (!r.ok) throw new Error(r.reason);
  return r.limit;
}

/** A store on a hand-driven clock. */
function store(maxKeys?: number) {
  const c = { now: 0 };
  const s = new LocalLimiterStore({ clock: () => c.now, ...(maxKeys === undefined ? {} : { maxKeys }) });
  return { c, s };
}

const TEN_PER_S = limit({ requests: 10, per: 's' });
const ONE_PER_S_BURST_10 = limit({ requests: 1, per: 's', burst: 10 });

t.test('the store satisfies the LimiterStore seam and defaults to 100 000 keys', async (t) => {
  const s: LimiterStore = new LocalLimiterStore();
  t.equal(s.take('k', TEN_PER_S).allowed, true);
  t.equal(new LocalLimiterStore().maxKeys, DEFAULT_MAX_KEYS);
  t.equal(DEFAULT_MAX_KEYS, 100_000);
});

t.test('100 000 distinct keys never hold more than maxKeys buckets', async (t) => {
  const { c, s } = store(1_000);
  let over = 0;
  for (let i = 0; i < 100_000; i++) {
    c.now = i;
    s.take(`client-${i}`, TEN_PER_S);
    if (s.size > s.maxKeys) over++;
  }
  t.equal(over, 0);
  t.equal(s.size, 1_000);
  t.same(s.evictions, { full: 99_000, partial: 0 }, 'one request per key leaves buckets full again in 100 ms: every eviction was lossless');
});

t.test('at the default bound, one more key evicts exactly one bucket', async (t) => {
  const { s } = store();
  for (let i = 0; i <= DEFAULT_MAX_KEYS; i++) s.take(`k${i}`, TEN_PER_S);
  t.equal(s.size, DEFAULT_MAX_KEYS);
  t.same(s.evictions, { full: 0, partial: 1 }, 'no time passed, so nothing was full');
});

t.test('a flood of one-request keys cannot evict a client that is being limited', async (t) => {
  const { c, s } = store(1_000);
  const twin = new TokenBucket({ ...ONE_PER_S_BURST_10, clock: () => c.now });
  let diverged = 0;
  for (let i = 0; i < 100_000; i++) {
    c.now = i;
    s.take(`flood-${i}`, ONE_PER_S_BURST_10);
    // The victim asks every ms; its decisions must equal those of a bucket nobody evicts.
    const got = s.take('victim', ONE_PER_S_BURST_10);
    if (got.allowed !== twin.take().allowed) diverged++;
  }
  t.equal(diverged, 0);
  t.ok(s.has('victim', ONE_PER_S_BURST_10));
  t.same(s.evictions, { full: 0, partial: 100_001 - 1_000 }, 'flood buckets (1 s from full) displaced each other, never the victim');
});

t.test('full buckets are evicted before partly used ones, longest-full first', async (t) => {
  const { c, s } = store(3);
  s.take('a', ONE_PER_S_BURST_10, 5); // full at 5000
  s.take('b', ONE_PER_S_BURST_10); // full at 1000
  s.take('c', ONE_PER_S_BURST_10); // full at 1000, used later than b
  c.now = 2000;
  s.take('d', ONE_PER_S_BURST_10);
  t.notOk(s.has('b', ONE_PER_S_BURST_10), 'b: full, and full longest (tie on fullAt broken by last use)');
  t.ok(s.has('a', ONE_PER_S_BURST_10), 'a: still 3 s from full');
  s.take('e', ONE_PER_S_BURST_10);
  t.notOk(s.has('c', ONE_PER_S_BURST_10));
  t.ok(s.has('a', ONE_PER_S_BURST_10));
  t.same(s.evictions, { full: 2, partial: 0 });
});

t.test('among full buckets the least recently used goes first', async (t) => {
  const { c, s } = store(2);
  s.take('a', ONE_PER_S_BURST_10, 0);
  s.take('b', ONE_PER_S_BURST_10, 0);
  c.now = 10;
  s.take('a', ONE_PER_S_BURST_10, 0); // a read while full: now the more recently used
  s.take('c', ONE_PER_S_BURST_10, 0);
  t.notOk(s.has('b', ONE_PER_S_BURST_10));
  t.ok(s.has('a', ONE_PER_S_BURST_10));
});

t.test('when no bucket is full, the one closest to full is evicted', async (t) => {
  const { s } = store(2);
  s.take('far', ONE_PER_S_BURST_10, 5); // 5 s from full
  s.take('near', ONE_PER_S_BURST_10, 2); // 2 s from full
  s.take('new', ONE_PER_S_BURST_10);
  t.notOk(s.has('near', ONE_PER_S_BURST_10));
  t.ok(s.has('far', ONE_PER_S_BURST_10));
  t.same(s.evictions, { full: 0, partial: 1 });
});

t.test('a key recreated after eviction starts full: state loss gives at most one burst', async (t) => {
  const { s } = store(1);
  for (let i = 0; i < 10; i++) s.take('x', ONE_PER_S_BURST_10);
  t.equal(s.take('x', ONE_PER_S_BURST_10).allowed, false, 'drained');
  s.take('y', ONE_PER_S_BURST_10);
  t.notOk(s.has('x', ONE_PER_S_BURST_10));
  t.same(s.take('x', ONE_PER_S_BURST_10), { allowed: true, remaining: 9, retryAfterMs: 0, resetMs: 1000 });
  t.same(s.evictions, { full: 0, partial: 2 });
});

t.test('each (limit, key) pair has its own bucket; equal limits share one', async (t) => {
  const { s } = store();
  const perS = limit({ requests: 1, per: 's' });
  const perH = limit({ requests: 100, per: 'h' });
  t.equal(s.take('k', perS).allowed, true);
  t.equal(s.take('k', perS).allowed, false);
  t.equal(s.take('k', perH).allowed, true, 'the hourly bucket is separate');
  t.equal(s.size, 2);
  t.equal(s.take('k', limit({ requests: 1, per: 1 })).allowed, false, 'an equal limit parsed again finds the same bucket');
  t.equal(s.size, 2);
});

t.test('a bad n throws and leaves the store unchanged', async (t) => {
  const { s } = store(1);
  s.take('a', TEN_PER_S);
  t.throws(() => s.take('b', TEN_PER_S, -1), RangeError);
  t.throws(() => s.take('a', TEN_PER_S, 1.5), RangeError);
  t.equal(s.size, 1);
  t.ok(s.has('a', TEN_PER_S), 'no eviction for a take that never happened');
  t.throws(() => new LocalLimiterStore({ maxKeys: 0 }), RangeError);
});

/** Oracle: same buckets, but the victim is found by a linear scan for the least (fullAt, last use). */
class ScanStore {
  readonly #max: number;
  readonly #clock: () => number;
  readonly #entries = new Map<string, { bucket: TokenBucket; used: number }>();
  #uses = 0;
  constructor(max: number, clock: () => number) {
    this.#max = max;
    this.#clock = clock;
  }
  keys(): string[] {
    return [...this.#entries.keys()].sort();
  }
  take(key: string, l: ParsedLimit, n: number): Decision {
    const id = `${l.id}|${key}`;
    let e = this.#entries.get(id);
    if (e === undefined) {
      if (this.#entries.size >= this.#max) {
        let victim: [string, { bucket: TokenBucket; used: number }] | undefined;
        for (const kv of this.#entries) {
          const [, v] = kv;
          if (victim === undefined || v.bucket.fullAt < victim[1].bucket.fullAt || (v.bucket.fullAt === victim[1].bucket.fullAt && v.used < victim[1].used)) victim = kv;
        }
        this.#entries.delete(victim![0]);
      }
      e = { bucket: new TokenBucket({ ...l, clock: this.#clock }), used: 0 };
      this.#entries.set(id, e);
    }
    e.used = ++this.#uses;
    return e.bucket.take(n);
  }
}

t.test('property: the heap evicts exactly what a linear scan would, and decisions match', async (t) => {
  const limits = [limit({ requests: 2, per: 's', burst: 3 }), limit({ requests: 1, per: 7, burst: 2 })];
  const opArb = fc.record({
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 })),
    key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
    limit: fc.constantFrom(0, 1),
    n: fc.integer({ min: 0, max: 3 }),
  });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 120 }), (maxKeys, ops) => {
      let now = 0;
      const s = new LocalLimiterStore({ maxKeys, clock: () => now });
      const oracle = new ScanStore(maxKeys, () => now);
      for (const op of ops) {
        now += op.dt;
        const l = limits[op.limit]!;
        const got = s.take(op.key, l, op.n);
        const want = oracle.take(op.key, l, op.n);
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`decision ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
        const expected = oracle.keys();
        const missing = expected.filter((id) => {
          const bar = id.indexOf('|');
          return !s.has(id.slice(bar + 1), limits.find((x) => x.id === id.slice(0, bar))!);
        });
        if (missing.length > 0 || s.size !== expected.length) throw new Error(`store lacks ${missing.join(',')} (size ${s.size})`);
      }
    }),
  );
  t.pass('heap agrees with the scan');
});
