/** Decoded upstream header names: right string, right class, whatever the cache holds. */
import t from 'tap';
import { HeaderNames, NameKind } from '../../../../src/worker/upstream/index.js';

/** A Buffer holding `s` inside a larger allocation, as undici's parser slices them. */
const slice = (s: string): Buffer => {
  const big = Buffer.alloc(s.length + 8, 'x');
  big.write(s, 3, 'latin1');
  return big.subarray(3, 3 + s.length);
};

t.test('names keep their spelling, lower-case form and class', async (t) => {
  const names = new HeaderNames();
  const headerNameOf = (b: Buffer) => names.of(b);
  const cases: [string, NameKind][] = [
    ['Content-Type', NameKind.Keep], ['connection', NameKind.Connection], ['Connection', NameKind.Connection],
    ['Keep-Alive', NameKind.Drop], ['Transfer-Encoding', NameKind.TransferEncoding], ['X-Request-Id', NameKind.Drop],
    ['VIA', NameKind.Via], ['Set-Cookie', NameKind.Keep], ['x-ünï', NameKind.Keep],
  ];
  for (let round = 0; round < 2; round++) {
    for (const [name, kind] of cases) {
      const h = headerNameOf(slice(name));
      t.equal(h.name, name, `${name} (round ${round})`);
      t.equal(h.lower, name.toLowerCase());
      t.equal(h.kind, kind, `${name} is ${kind}`);
    }
  }
  t.equal(headerNameOf(slice('Content-Type')), headerNameOf(Buffer.from('Content-Type')), 'the same bytes give the remembered answer');
  t.not(headerNameOf(slice('Content-Type')), headerNameOf(slice('content-type')), 'another spelling is another entry');
});

t.test('names of one length and similar bytes are never confused', async (t) => {
  const names = new HeaderNames();
  const headerNameOf = (b: Buffer) => names.of(b);
  const similar = ['x-a', 'x-b', 'x-A', 'y-a', 'x-aa', 'x-a\u0000', '\u0000x-a'];
  for (let round = 0; round < 3; round++) for (const n of similar) t.equal(headerNameOf(slice(n)).name, n);
});

t.test('two names with the same hash: each decodes to itself, the first stays remembered', async (t) => {
  const names = new HeaderNames();
  const headerNameOf = (b: Buffer) => names.of(b);
  // Same length and the same FNV-1a hash (found by search).
  const first = headerNameOf(slice('x-igizzzlc'));
  for (let round = 0; round < 3; round++) {
    t.equal(headerNameOf(slice('x-adpxjhcv')).name, 'x-adpxjhcv', `the colliding name (round ${round})`);
    t.equal(headerNameOf(slice('x-igizzzlc')), first, `the first one still comes from the cache (round ${round})`);
  }
});

t.test('beyond the bound and the length limit, names are still decoded right', async (t) => {
  const names = new HeaderNames();
  const headerNameOf = (b: Buffer) => names.of(b);
  for (let i = 0; i < 2000; i++) {
    const n = `X-Custom-${i}`;
    if (headerNameOf(slice(n)).name !== n) t.fail(n);
  }
  const long = `X-${'L'.repeat(100)}`;
  t.equal(headerNameOf(slice(long)).lower, long.toLowerCase());
  t.equal(headerNameOf(slice('Keep-Alive')).kind, NameKind.Drop, 'right after the flood');
  // The flood did not freeze the cache: a name seen after it is remembered again.
  const after = headerNameOf(slice('X-After-Flood'));
  t.equal(headerNameOf(slice('X-After-Flood')), after, 'remembered (same object)');
});

t.test('each worker owns its names: one instance never answers from another', async (t) => {
  const a = new HeaderNames();
  const b = new HeaderNames();
  const fromA = a.of(slice('X-Shared'));
  t.equal(a.of(slice('X-Shared')), fromA);
  t.not(b.of(slice('X-Shared')), fromA, 'a separate cache');
  t.equal(b.of(slice('X-Shared')).name, 'X-Shared');
});
