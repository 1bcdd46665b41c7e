/**
 * The route path pattern grammar: the one definition, used by the control plane
 * (validation, conflict checks) and by the worker router (which throws on a reason).
 *
 *   pattern  = "/" segment *( "/" segment )
 *   segment  = static | ":" name | "*"       ; "*" only as the whole last segment
 *   name     = [A-Za-z_] [A-Za-z0-9_]*       ; unique within the pattern
 *   static   = canonical pchar text, without ":" or "*"; empty only as the last segment
 *
 * "Canonical" means exactly what the worker's `normalizePath` produces (with
 * `mergeSlashes: false, encodedSlash: 'keep'`): printable RFC 3986 pchar, `%XX` with
 * upper-case hex, no escape of an unreserved character (requests have those decoded),
 * no `%00`, no `.`/`..` segment (also not as `%2E`). So a valid pattern is its own
 * canonical form and some normalized request path can always reach it; a test pins this
 * against `normalizePath`. `:` and `*` are kept out of static text so that `shape` is an
 * unambiguous conflict key. This file must not import from `worker/`: the control plane
 * uses it too.
 */

/** One parsed segment of a pattern. */
export type PatternSegment =
  | { readonly kind: 'static'; readonly text: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

/** A valid pattern, parsed. */
export interface ParsedPattern {
  /** The pattern as written. */
  readonly pattern: string;
  readonly segments: readonly PatternSegment[];
  /** Param names in pattern order; the router returns values in the same order. */
  readonly paramNames: readonly string[];
  /** Whether the pattern ends with `/*`. */
  readonly hasWildcard: boolean;
  /**
   * The literal leading part, up to the first param or `*`, without a trailing slash:
   * `/api/*` → `/api`, `/*` → ``, `/u/:id` → `/u`, `/a/b/` → `/a/b`. Every matching
   * path starts with it at a segment boundary, so it is safe to strip.
   */
  readonly staticPrefix: string;
  /**
   * Conflict key: param names erased (`/u/:id` and `/u/:uid` are the same shape).
   * `:` and `*` cannot occur in static text, so the key is unambiguous.
   */
  readonly shape: string;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// pchar minus `%` (escapes are checked on their own), `:` and `*` (reported separately).
const PLAIN = /^[A-Za-z0-9\-._~!$&'()+,;=@]$/;
// Printable characters outside pchar: requests carry them percent-encoded.
const ENCODED_IN_REQUESTS = '"<>^`{|}#[]?';

/** Parse a pattern, or return a human-readable reason it is invalid. */
export function parsePattern(pattern: string): ParsedPattern | string {
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) return 'must start with "/"';
  const parts = pattern.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const paramNames: string[] = [];
  let staticPrefix = '';
  let literal = true;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === '*') {
      if (!last) return '"*" is only allowed as the whole last segment';
      segments.push({ kind: 'wildcard' });
      literal = false;
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (name === '') return 'empty param name';
      if (!PARAM_NAME.test(name)) return `invalid param name "${part}" (letters, digits and "_", not starting with a digit)`;
      if (paramNames.includes(name)) return `duplicate param name "${name}"`;
      paramNames.push(name);
      segments.push({ kind: 'param', name });
      literal = false;
    } else {
      if (part === '' && !last) return 'empty segment ("//") is not allowed';
      const reason = checkStatic(part);
      if (reason !== null) return reason;
      segments.push({ kind: 'static', text: part });
      if (literal) staticPrefix += '/' + part;
    }
  }
  if (staticPrefix.endsWith('/')) staticPrefix = staticPrefix.slice(0, -1);
  return {
    pattern,
    segments,
    paramNames,
    hasWildcard: segments[segments.length - 1]!.kind === 'wildcard',
    staticPrefix,
    shape: segments.map(shapeOf).join('/'),
  };
}

/** Why static segment text is not canonical, or null when it is. */
function checkStatic(text: string): string | null {
  if (text === '.' || text === '..') return 'dot segments are not allowed';
  if (/^\.\.?;/.test(text)) return 'a dot segment with parameters ("..;") is never in a request path';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (PLAIN.test(ch)) continue;
    if (ch === '*') return '"*" is only allowed as the whole last segment';
    if (ch === ':') return '":" is only allowed at the start of a segment';
    if (ch === '%') {
      const reason = checkEscape(text.slice(i, i + 3), text);
      if (reason !== null) return reason;
      i += 2;
      continue;
    }
    return describeChar(String.fromCodePoint(text.codePointAt(i)!));
  }
  return null;
}

/** Why a `%XX` escape inside `segment` is not canonical, or null when it is. */
function checkEscape(escape: string, segment: string): string | null {
  if (!/^%[0-9A-Fa-f]{2}$/.test(escape)) return `invalid percent-encoding "${escape}"`;
  const ch = String.fromCharCode(parseInt(escape.slice(1), 16));
  if (ch === '\0') return 'encoded NUL (%00) can never match';
  if (UNRESERVED.test(ch)) {
    // `.`/`..` spelled with escapes: "write . instead" would only lead to another error.
    const decoded = decodeUnreserved(segment);
    if (decoded === '.' || decoded === '..') {
      return `"${segment}" is a dot segment once decoded; canonical request paths never contain one`;
    }
    return `write "${ch}" instead of "${escape}" (requests are matched after decoding it)`;
  }
  const upper = escape.toUpperCase();
  if (upper !== escape) return `write "${upper}" instead of "${escape}" (requests are matched with upper-case hex)`;
  return null;
}

/** `segment` with escapes of unreserved characters decoded, as `normalizePath` does. */
function decodeUnreserved(segment: string): string {
  return segment.replace(/%[0-9A-Fa-f]{2}/g, (e) => {
    const ch = String.fromCharCode(parseInt(e.slice(1), 16));
    return UNRESERVED.test(ch) ? ch : e;
  });
}

/** Reason for a character (one code point) no canonical request path contains as is. */
function describeChar(ch: string): string {
  const c = ch.codePointAt(0)!;
  if (ENCODED_IN_REQUESTS.includes(ch)) {
    const hex = c.toString(16).toUpperCase();
    return `write "%${hex}" instead of "${ch}" (requests are matched with it percent-encoded)`;
  }
  if (c === 0x20) return 'space is not allowed (write "%20")';
  if (c === 0x5c) return 'backslash is not allowed (requests containing one are refused)';
  if (c > 0x7f) return `non-ASCII character "${ch}" is not allowed (percent-encode its UTF-8 bytes)`;
  return 'control character is not allowed';
}

function shapeOf(s: PatternSegment): string {
  return s.kind === 'static' ? s.text : s.kind === 'param' ? ':' : '*';
}
