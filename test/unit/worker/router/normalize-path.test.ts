import t from 'tap';
import { normalizePath, type NormalizeOptions } from '../../../../src/worker/router/index.js';

const KEEP: NormalizeOptions = { mergeSlashes: true, encodedSlash: 'keep' };
const REJECT: NormalizeOptions = { mergeSlashes: true, encodedSlash: 'reject' };
const NO_MERGE: NormalizeOptions = { mergeSlashes: false, encodedSlash: 'reject' };

// [input, options, expected path or null for a refusal, what the case pins]
const cases: [string, NormalizeOptions, string | null, string][] = [
  ['/', KEEP, '/', 'root is canonical'],
  ['/a/b/c', KEEP, '/a/b/c', 'plain path unchanged'],
  ["/a-b_c~d/!$&'()*+,;=:@", KEEP, "/a-b_c~d/!$&'()*+,;=:@", 'all pchar kept'],
  ['a/b', KEEP, null, 'relative path refused'],
  ['', KEEP, null, 'empty path refused'],
  ['*', KEEP, null, 'asterisk-form refused'],
  // encoded dots are dot segments: no route can be reached by hiding `..`
  ['/a/%2e%2e/admin', KEEP, '/admin', 'encoded dot-dot removed'],
  ['/a/%2E%2e/admin', KEEP, '/admin', 'mixed-case encoded dot-dot removed'],
  ['/a/.%2e/admin', KEEP, '/admin', 'half-encoded dot-dot removed'],
  ['/a/%2e/b', KEEP, '/a/b', 'encoded dot removed'],
  ['/a/..b/c', KEEP, '/a/..b/c', 'dots inside a segment are data'],
  ['/a/.../c', KEEP, '/a/.../c', 'three dots are a normal segment'],
  ['/a/b/..', KEEP, '/a/', 'trailing dot-dot leaves a slash'],
  ['/a/.', KEEP, '/a/', 'trailing dot leaves a slash'],
  ['/a/./b/../c', KEEP, '/a/c', 'dot segments in the middle'],
  ['/..', KEEP, '/', 'dot-dot above root clamps'],
  ['/../../a', KEEP, '/a', 'repeated dot-dot above root clamps'],
  ['/.', KEEP, '/', 'lone dot'],
  // encoded slashes never become separators
  ['/a%2Fb', REJECT, null, '%2F refused in reject mode'],
  ['/a%2fb', REJECT, null, 'lower-case %2f refused in reject mode'],
  ['/a%5cb', REJECT, null, '%5C refused in reject mode'],
  ['/a%2fb', KEEP, '/a%2Fb', '%2f kept upper-cased in keep mode'],
  ['/a%5cb', KEEP, '/a%5Cb', '%5c kept upper-cased in keep mode'],
  ['/a/..%2F..%2fadmin', KEEP, '/a/..%2F..%2Fadmin', 'encoded slash does not split dot segments'],
  // percent-encoding
  ['/%41%7a%30%2D%5f%7E', KEEP, '/Az0-_~', 'unreserved escapes decoded'],
  ['/a%20b', KEEP, '/a%20b', 'escaped space stays escaped'],
  ['/a%c3%a9', KEEP, '/a%C3%A9', 'other escapes get upper-case hex'],
  ['/a%3f', KEEP, '/a%3F', 'escaped reserved char stays escaped'],
  ['/%zz', KEEP, null, 'non-hex escape refused'],
  ['/a%4', KEEP, null, 'truncated escape refused'],
  ['/a%', KEEP, null, 'bare percent refused'],
  ['/a%00b', KEEP, null, 'encoded NUL refused'],
  // characters
  ['/a\\b', KEEP, null, 'backslash refused'],
  ['/a b', KEEP, null, 'space refused'],
  ['/a\tb', KEEP, null, 'tab refused'],
  ['/a\x00b', KEEP, null, 'NUL refused'],
  ['/a\x7fb', KEEP, null, 'DEL refused'],
  ['/caf\xe9', KEEP, null, 'non-ASCII (latin1 byte) refused'],
  ['/a"<>^`{|}b', KEEP, '/a%22%3C%3E%5E%60%7B%7C%7Db', 'unwise chars percent-encoded'],
  ['/a#b[c]', KEEP, '/a%23b%5Bc%5D', 'gen-delims outside pchar percent-encoded'],
  // slashes
  ['//a///b', KEEP, '/a/b', 'slash runs merged'],
  ['//a///b', NO_MERGE, '//a///b', 'slash runs kept without merge'],
  ['/a//../b', NO_MERGE, '/a/b', 'dot-dot pops an empty segment without merge'],
  ['/a//../b', KEEP, '/b', 'merge happens before dot removal'],
  ['/a/', KEEP, '/a/', 'trailing slash kept'],
  // path parameters: data, except on dot segments (servlet containers read `..;` as `..`)
  ['/a;jsessionid=1/b;v=2', KEEP, '/a;jsessionid=1/b;v=2', '";" parameters are data'],
  ['/public/..;/admin/x', KEEP, null, '"..;" dot segment with parameters refused'],
  ['/public/%2e%2e;x/admin', KEEP, null, 'encoded "..;" refused too'],
  ['/public/.;/admin', KEEP, null, '".;" refused'],
  ['/a/..;', KEEP, null, 'a final "..;" refused'],
  ['/a/x..;/b', KEEP, '/a/x..;/b', 'dots then ";" inside a longer segment are data'],
  ['/a/...;/b', KEEP, '/a/...;/b', 'three dots are a normal segment, parameters or not'],
  ['/a/%3B/b', KEEP, '/a/%3B/b', 'an escaped ";" stays escaped data'],
  ['/admin;x', { ...KEEP, semicolons: 'reject' }, null, 'semicolons: reject refuses any ";"'],
  ['/a/%3B', { ...KEEP, semicolons: 'reject' }, '/a/%3B', 'but not an escaped one (it is not a parameter to anyone)'],
];

for (const [input, opts, expected, what] of cases) {
  t.test(what, async (t) => {
    const r = normalizePath(input, opts);
    if (expected === null) {
      t.equal(r.ok, false, `${JSON.stringify(input)} is refused`);
      if (!r.ok) t.type(r.reason, 'string');
    } else {
      t.same(r, { ok: true, path: expected }, JSON.stringify(input));
    }
  });
}

t.test('refusals carry a reason naming the problem', async (t) => {
  const r = normalizePath('/%zz', KEEP);
  t.same(r, { ok: false, reason: 'invalid percent-encoding' });
});

t.test('fast path returns the very same string', async (t) => {
  const raw = '/api/v1/users/42/orders';
  const r = normalizePath(raw, KEEP);
  t.ok(r.ok && r.path === raw);
});

t.test('normalisation is idempotent', async (t) => {
  for (const [input, opts, expected] of cases) {
    if (expected === null) continue;
    const again = normalizePath(expected, { ...opts, encodedSlash: 'keep' });
    t.same(again, { ok: true, path: expected }, `${JSON.stringify(input)} twice`);
  }
});
