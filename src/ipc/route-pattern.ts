/**
 * The route path pattern language, shared by the control plane (validation, conflict
 * checks) and the data plane (the radix tree). Grammar: `/` followed by segments; a
 * segment is literal text, `:name` (one whole segment), or — last only — `*`.
 */

/** One parsed segment of a pattern. */
export type PatternSegment =
  | { readonly kind: 'static'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

/** A parsed pattern. `shape` ignores param names: equal shapes match the same paths. */
export interface ParsedPattern {
  readonly segments: readonly PatternSegment[];
  readonly paramNames: readonly string[];
  readonly hasWildcard: boolean;
  /** Literal text before a trailing `/*`, e.g. `/api/v1` for `/api/v1/*`; '' for `/*`. */
  readonly staticPrefix: string;
  readonly shape: string;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Literal segments may only hold chars a normalized path can contain, so a route can
// always be reached (the path normalizer decodes unreserved %XX before routing).
const STATIC_SEGMENT = /^(?:[A-Za-z0-9\-._~!$&'()+,;=@:]|%[0-9A-F]{2})*$/;

/** Parse a pattern or return a human-readable reason it is invalid. */
export function parsePattern(pattern: string): ParsedPattern | string {
  if (!pattern.startsWith('/')) return 'must start with "/"';
  const parts = pattern.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const names: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '*') {
      if (i !== parts.length - 1) return '"*" is only allowed as the last segment';
      segments.push({ kind: 'wildcard' });
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!PARAM_NAME.test(name)) return `invalid parameter name "${part}"`;
      if (names.includes(name)) return `duplicate parameter name ":${name}"`;
      names.push(name);
      segments.push({ kind: 'param', name });
    } else {
      if (part.includes('*')) return '"*" must be a whole segment';
      if (part === '.' || part === '..') return 'dot segments are not allowed';
      if (!STATIC_SEGMENT.test(part)) return `segment "${part}" has characters a normalized path cannot contain`;
      if (part === '' && i !== parts.length - 1) return 'empty segment ("//") is not allowed';
      segments.push({ kind: 'static', value: part });
    }
  }
  const hasWildcard = segments.at(-1)?.kind === 'wildcard';
  const staticPrefix = hasWildcard ? pattern.slice(0, -2) : pattern;
  const shape = '/' + segments.map((s) => (s.kind === 'static' ? s.value : s.kind === 'param' ? ':' : '*')).join('/');
  return { segments, paramNames: names, hasWildcard, staticPrefix, shape };
}
