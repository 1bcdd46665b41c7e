/**
 * Path canonicalisation.
 *
 * The router and the upstream must see the same path, or an encoding trick
 * (`/a/%2e%2e/admin`, `/admin%2Fx`, `//admin`) could reach a route while dodging the
 * policies of the route the upstream will really serve. So the gateway matches on, and
 * forwards, the canonical form computed here:
 *
 *   1. the path must be absolute (start with `/`);
 *   2. control characters, space, `\` and non-ASCII fail; the "unwise" printable
 *      characters outside RFC 3986 pchar (`" < > ^ \` { | } # [ ] ?`) are percent-encoded;
 *   3. `%XX` must be well-formed; unreserved characters are decoded, `%00` fails,
 *      `%2F`/`%5C` fail or are kept (never separators), other escapes get upper-case hex;
 *   4. optionally, runs of `/` collapse into one;
 *   5. dot segments are removed as in RFC 3986 §5.2.4, clamping at the root;
 *   6. `;` (path parameters) is data to the router, but a dot segment with parameters
 *      (`..;x`, `.;`) fails: Java servlet containers read `/a/..;/admin` as `/admin`,
 *      the classic way past a proxy's route policies, and no client sends it for a good
 *      reason. With `semicolons: reject` any `;` fails (for such upstreams, which also
 *      serve `/admin;x` as `/admin`).
 *
 * Step 5 runs after step 3 so that `%2e%2E` is a `..` segment. Never throws.
 */

/** How `normalizePath` treats ambiguous input. */
export interface NormalizeOptions {
  /** Collapse `//` runs into a single `/`. */
  readonly mergeSlashes: boolean;
  /** `%2F` / `%5C` in a path: refuse the request, or keep the escape as data. */
  readonly encodedSlash: 'reject' | 'keep';
  /** `;` in a path: data (default; dot segments with parameters still fail), or refuse it. */
  readonly semicolons?: 'keep' | 'reject';
}

/** Result of `normalizePath`: the canonical path, or why the request must be refused. */
export type NormalizeResult =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: string };

// Per ASCII code: 1 = plain pchar (kept as is), 2 = percent-encode, 0 = refuse.
// `%`, `/` and `.` are plain here; the scanners treat them specially.
const CLASS = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) CLASS[c] = 1;
for (const ch of '"<>^`{|}#[]?') CLASS[ch.charCodeAt(0)] = 2;
CLASS[0x5c] = 0; // backslash: some upstreams treat it as a separator, so it is refused
CLASS[0x3b] = 3; // `;`: kept, but only through the slow path (step 6)

const HEX = '0123456789ABCDEF';
const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const SEMICOLON = 0x3b;

/** Canonicalise the path part of a request target (see the header for the steps). */
export function normalizePath(raw: string, opts: NormalizeOptions): NormalizeResult {
  if (raw.charCodeAt(0) !== SLASH) return fail('path must start with "/"');
  if (isCanonical(raw)) return { ok: true, path: raw };
  return slowPath(raw, opts);
}

/**
 * Fast path, run on every request: a single scan, no allocation. True when the path has
 * only plain characters, no `%`, no empty segment and no dot segment, i.e. when every
 * step of the algorithm would leave it unchanged.
 */
function isCanonical(raw: string): boolean {
  let segStart = 1;
  const len = raw.length;
  for (let i = 1; i < len; i++) {
    const c = raw.charCodeAt(i);
    if (c === SLASH) {
      if (i === segStart || isDotSegment(raw, segStart, i)) return false;
      segStart = i + 1;
    } else if (c === PERCENT || c > 0x7e || CLASS[c] !== 1) {
      return false;
    }
  }
  return !isDotSegment(raw, segStart, len);
}

function isDotSegment(s: string, start: number, end: number): boolean {
  const n = end - start;
  if (n === 1) return s.charCodeAt(start) === DOT;
  return n === 2 && s.charCodeAt(start) === DOT && s.charCodeAt(start + 1) === DOT;
}

/** Steps 2–5 on a path the fast path did not accept. */
function slowPath(raw: string, opts: NormalizeOptions): NormalizeResult {
  let out = '';
  let sawDot = false;
  let sawSemicolon = false;
  const len = raw.length;
  for (let i = 0; i < len; i++) {
    const c = raw.charCodeAt(i);
    if (c === SLASH) {
      if (opts.mergeSlashes && out.charCodeAt(out.length - 1) === SLASH) continue;
      out += '/';
    } else if (c === PERCENT) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return fail('invalid percent-encoding');
      const v = hi * 16 + lo;
      i += 2;
      if (v === 0) return fail('encoded NUL (%00) in path');
      if (v === SLASH || v === 0x5c) {
        if (opts.encodedSlash === 'reject') return fail('encoded slash or backslash in path');
        out += v === SLASH ? '%2F' : '%5C';
      } else if (isUnreserved(v)) {
        if (v === DOT) sawDot = true;
        out += String.fromCharCode(v);
      } else {
        out += '%' + HEX[hi] + HEX[lo];
      }
    } else if (c < 0x7f && CLASS[c] === 1) {
      if (c === DOT) sawDot = true;
      out += raw[i];
    } else if (c < 0x7f && CLASS[c] === 2) {
      out += '%' + HEX[c >> 4] + HEX[c & 15];
    } else if (c === SEMICOLON) {
      if (opts.semicolons === 'reject') return fail('";" in path');
      sawSemicolon = true;
      out += ';';
    } else {
      return fail(describeBadChar(c));
    }
  }
  if (sawDot && sawSemicolon && hasDotSegmentWithParameters(out)) return fail('dot segment with parameters ("..;") in path');
  return { ok: true, path: sawDot ? removeDotSegments(out) : out };
}

/** Whether a segment is `.` or `..` followed by `;parameters` (decoded dots included). */
function hasDotSegmentWithParameters(path: string): boolean {
  for (const seg of path.split('/')) {
    const semi = seg.indexOf(';');
    if (semi === 1 ? seg.charCodeAt(0) === DOT : semi === 2 && seg.charCodeAt(0) === DOT && seg.charCodeAt(1) === DOT) return true;
  }
  return false;
}

/**
 * RFC 3986 §5.2.4 on an absolute path, segment-wise: `.` is dropped, `..` pops the
 * previous segment (an empty one included) and never climbs above the root. A final
 * `.`/`..` leaves a trailing slash, as the RFC's buffer algorithm does.
 */
function removeDotSegments(path: string): string {
  const input = path.split('/'); // input[0] is the empty string before the leading '/'
  const stack: string[] = [];
  let trailing = false;
  for (let i = 1; i < input.length; i++) {
    const seg = input[i]!;
    trailing = false;
    if (seg === '.') {
      trailing = true;
    } else if (seg === '..') {
      stack.pop();
      trailing = true;
    } else {
      stack.push(seg);
    }
  }
  if (stack.length === 0) return '/';
  return '/' + stack.join('/') + (trailing ? '/' : '');
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || c === DOT || c === 0x5f || c === 0x7e // - . _ ~
  );
}

/** Value of a hex digit, -1 otherwise (NaN from charCodeAt past the end included). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function describeBadChar(c: number): string {
  if (c === 0x20) return 'space in path';
  if (c === 0x5c) return 'backslash in path';
  if (c > 0x7f) return 'non-ASCII byte in path';
  return 'control character in path';
}

function fail(reason: string): NormalizeResult {
  return { ok: false, reason };
}
