/**
 * The route path pattern grammar has one definition (`ipc/route-pattern.ts`), used by the
 * config loader and the worker router. These tests pin: a table of valid and invalid
 * patterns; that the router's `Router.add` accepts exactly what the shared parser accepts,
 * with the same reason; that the grammar equals the router's old rules (structure checks
 * plus "the pattern is its own `normalizePath` form"), kept below as an oracle; and that
 * every accepted pattern is reachable by a normalized request path.
 */
import fc from 'fast-check';
import t from 'tap';
import { parsePattern, type ParsedPattern } from '../../../src/ipc/index.js';
import { RouteDefinitionError, Router, normalizePath } from '../../../src/worker/router/index.js';

const CANON = { mergeSlashes: false, encodedSlash: 'keep' } as const;

/** `Router.add` on a one-path route: the parsed pattern, or the reason it threw. */
function viaRouter(pattern: string): ParsedPattern | string {
  try {
    return new Router<number>().add({ id: 'r', methods: [], hosts: [], paths: [pattern], priority: 0 }, 1)[0]!;
  } catch (e) {
    if (!(e instanceof RouteDefinitionError)) throw e;
    const prefix = `invalid path "${pattern}": `;
    if (!e.message.startsWith(prefix)) throw new Error(`unexpected message ${e.message}`);
    return e.message.slice(prefix.length);
  }
}

/**
 * The router's rules before the grammar was shared, written out independently: the
 * structure checks, then "the pattern is already in the canonical form requests are
 * matched in".
 */
function oracleAccepts(pattern: string): boolean {
  if (!pattern.startsWith('/')) return false;
  const parts = pattern.slice(1).split('/');
  const names = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if ((part === '' && !last) || part === '.' || part === '..') return false;
    if (part === '*') {
      if (!last) return false;
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || names.has(name)) return false;
      names.add(name);
    } else if (part.includes('*') || part.includes(':')) {
      return false;
    }
  }
  const canon = normalizePath(pattern, CANON);
  return canon.ok && canon.path === pattern;
}

/** A request path the pattern should match: params and `*` filled with plain text. */
function samplePath(parsed: ParsedPattern): string {
  return '/' + parsed.segments.map((s) => (s.kind === 'static' ? s.text : s.kind === 'param' ? 'v' : 'w/x')).join('/');
}

// [pattern, what parsing yields: a subset of the ParsedPattern or a reason pattern, why]
const cases: [string, Partial<ParsedPattern> | RegExp, string][] = [
  ['/', { segments: [{ kind: 'static', text: '' }], staticPrefix: '', shape: '' }, 'the root'],
  ['/api/*', { hasWildcard: true, staticPrefix: '/api', shape: 'api/*' }, 'trailing wildcard'],
  ['/*', { hasWildcard: true, staticPrefix: '', shape: '*' }, 'catch-all'],
  ['/u/:id/p/:pid', { paramNames: ['id', 'pid'], staticPrefix: '/u', shape: 'u/:/p/:' }, 'params, shape erases names'],
  ['/a/b/', { staticPrefix: '/a/b', hasWildcard: false }, 'trailing slash is a last empty segment'],
  ["/a-b_c~d/!$&'()+,;=@", { staticPrefix: "/a-b_c~d/!$&'()+,;=@" }, 'every plain pchar but ":" and "*"'],
  ['/a%20b/%C3%A9/%3A', { staticPrefix: '/a%20b/%C3%A9/%3A' }, 'escapes requests keep, upper-case hex'],
  ['/a%2Fb/%5C', { shape: 'a%2Fb/%5C' }, 'encoded slashes are data inside one segment'],
  ['/..a/.../a.', { staticPrefix: '/..a/.../a.' }, 'dots inside a segment are data'],
  ['/v1/m:predict', /^":" is only allowed at the start of a segment$/, '":" mid-segment would make shapes ambiguous'],
  ['/%7E', /^write "~" instead of "%7E" \(requests are matched after decoding it\)$/, 'requests have unreserved escapes decoded'],
  ['/a%41', /^write "A" instead of "%41"/, 'escaped letter'],
  ['/%00', /^encoded NUL \(%00\) can never match$/, 'requests with %00 are refused'],
  ['/a%2f', /^write "%2F" instead of "%2f" \(requests are matched with upper-case hex\)$/, 'lower-case hex'],
  ['/a/%2e', /dot segment once decoded; canonical/, 'encoded dot segment'],
  ['/a/.%2E/b', /dot segment once decoded/, 'half-encoded dot-dot'],
  ['/%zz', /^invalid percent-encoding "%zz"$/, 'malformed escape'],
  ['/a%4', /^invalid percent-encoding "%4"$/, 'truncated escape'],
  ['api', /^must start with "\/"$/, 'relative'],
  ['', /^must start with "\/"$/, 'empty'],
  ['/api/*/x', /^"\*" is only allowed as the whole last segment$/, '"*" not last'],
  ['/api*', /^"\*" is only allowed as the whole last segment$/, '"*" inside a segment'],
  ['/a/:', /^empty param name$/, 'bare ":"'],
  ['/a/:1x', /^invalid param name ":1x"/, 'name starts with a digit'],
  ['/a/:id-x', /^invalid param name ":id-x"/, 'name with "-"'],
  ['/a/:id/b/:id', /^duplicate param name "id"$/, 'duplicate name'],
  ['/a//b', /^empty segment/, 'empty segment'],
  ['/a/../b', /^dot segments are not allowed$/, 'dot-dot'],
  ['/a/./b', /^dot segments are not allowed$/, 'dot'],
  ['/a{b}', /^write "%7B" instead of "{"/, 'requests carry "{" encoded'],
  ['/a?b', /^write "%3F" instead of "\?"/, '"?" would start a query'],
  ['/a b', /^space is not allowed/, 'space'],
  ['/a\\b', /^backslash is not allowed/, 'backslash'],
  ['/caf\xe9', /^non-ASCII character "é" is not allowed/, 'non-ASCII'],
  ['/\u{1F600}', /^non-ASCII character "\u{1F600}"/u, 'astral character named whole'],
  ['/a\tb', /^control character is not allowed$/, 'control character'],
  ['/a\x7f', /^control character is not allowed$/, 'DEL'],
];

t.test('pattern table: the shared parser and Router.add give the same answer', async (t) => {
  for (const [pattern, want, why] of cases) {
    const shared = parsePattern(pattern);
    if (want instanceof RegExp) {
      t.match(shared, want, `${JSON.stringify(pattern)} rejected: ${why}`);
      t.notOk(oracleAccepts(pattern), `${JSON.stringify(pattern)} the router's old rules reject it too`);
    } else {
      t.match(shared, { pattern, ...want }, `${JSON.stringify(pattern)} accepted: ${why}`);
      t.ok(oracleAccepts(pattern), `${JSON.stringify(pattern)} the router's old rules accept it too`);
    }
    t.same(viaRouter(pattern), shared, `${JSON.stringify(pattern)} Router.add agrees`);
  }
});

t.test('accepted patterns are their own canonical form and reachable by a request', async (t) => {
  for (const [pattern, want] of cases) {
    const parsed = parsePattern(pattern);
    if (want instanceof RegExp || typeof parsed === 'string') continue;
    t.same(normalizePath(pattern, CANON), { ok: true, path: pattern }, `${pattern} is canonical`);
    const router = new Router<number>();
    router.add({ id: 'r', methods: [], hosts: [], paths: [pattern], priority: 0 }, 1);
    t.match(router.find('GET', 'h', samplePath(parsed)), { kind: 'found', routeId: 'r' }, `${pattern} is reachable`);
  }
});

// Pieces chosen to hit every rule: pchar, params, ":" and "*" in and out of place,
// escapes of each class in both hex cases, malformed escapes, dots, and characters
// requests never carry. Valid pieces are weighted up so both decisions stay common.
const GOOD = ['a', 'Z', '0', '-', '_', '~', '.', '!', "'", '@', '+', ';', '=', ':id', ':x', '*', '%20', '%2F', '%5C', '%3A', '%C3'];
const BAD = [
  '..', ':', ':1', '%', '%4', '%zz', '%00', '%41', '%7E', '%7e', '%2E', '%2e', '%2f', '%c3',
  '{', '?', '#', ' ', '\\', '\t', '\x7f', 'é',
];
const pieceArb = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...GOOD) }, { weight: 1, arbitrary: fc.constantFrom(...BAD) });
const segmentArb = fc.oneof(
  { weight: 12, arbitrary: fc.array(pieceArb, { maxLength: 3 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 4 }) },
);
const patternArb = fc
  .tuple(fc.nat(19), fc.array(segmentArb, { minLength: 1, maxLength: 4 }))
  .map(([n, segs]) => (n === 0 ? '' : '/') + segs.join('/'));

t.test('property: shared parser, Router.add and the old router rules agree', async (t) => {
  let accepted = 0;
  let total = 0;
  fc.assert(
    fc.property(patternArb, (pattern) => {
      total++;
      const shared = parsePattern(pattern);
      const ok = typeof shared !== 'string';
      if (ok) accepted++;
      if (ok !== oracleAccepts(pattern)) throw new Error(`old router rules ${!ok}, shared parser ${ok}`);
      const routed = viaRouter(pattern);
      if (JSON.stringify(routed) !== JSON.stringify(shared)) {
        throw new Error(`Router.add ${JSON.stringify(routed)}, shared parser ${JSON.stringify(shared)}`);
      }
      if (ok) {
        const router = new Router<number>();
        router.add({ id: 'r', methods: [], hosts: [], paths: [pattern], priority: 0 }, 1);
        if (router.find('GET', 'h', samplePath(shared)).kind !== 'found') throw new Error('unreachable');
      }
    }),
    { numRuns: 5000 },
  );
  // Guard against a generator that stopped producing one side of the decision.
  t.ok(accepted > total / 10 && accepted < total * 0.9, `${accepted} of ${total} accepted`);
});
