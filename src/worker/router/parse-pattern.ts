/**
 * Route path patterns: `/static/:param/*`.
 *
 * A pattern is a sequence of segments: static text, `:name` (one non-empty path
 * segment) and, only as the whole last segment, `*` (the rest of the path, possibly
 * empty). Patterns are validated here once, at registration, so lookup never has to.
 * Static text must already be in the canonical form `normalizePath` produces, otherwise
 * no request could ever reach it.
 */
import { normalizePath } from './normalize-path.js';
import { RouteDefinitionError } from './route-errors.js';

/** One segment of a parsed pattern. */
export type PatternSegment =
  | { readonly kind: 'static'; readonly text: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

/** What callers need to know about a pattern after registering it. */
export interface ParsedPattern {
  /** The pattern as written. */
  readonly pattern: string;
  readonly segments: readonly PatternSegment[];
  /** Param names in pattern order; `find` returns values in the same order. */
  readonly paramNames: readonly string[];
  /** Whether the pattern ends with `/*`. */
  readonly hasWildcard: boolean;
  /**
   * The literal leading part, up to the first param or `*`, without a trailing slash:
   * `/api/*` → `/api`, `/*` → ``, `/u/:id` → `/u`, `/a/b` → `/a/b`. Every matching
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

/** Parse and validate a path pattern; throws `RouteDefinitionError` naming the pattern. */
export function parsePattern(pattern: string): ParsedPattern {
  const bad = (reason: string): never => {
    throw new RouteDefinitionError(pattern, reason);
  };
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) bad('must start with "/"');
  const parts = pattern.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const paramNames: string[] = [];
  let staticPrefix = '';
  let literal = true;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === '' && !last) bad('empty segment ("//")');
    if (part === '.' || part === '..') bad('dot segment');
    if (part === '*') {
      if (!last) bad('"*" is only allowed as the whole last segment');
      segments.push({ kind: 'wildcard' });
      literal = false;
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (name === '') bad('empty param name');
      if (!PARAM_NAME.test(name)) bad(`param name "${name}" must match ${PARAM_NAME.source}`);
      if (paramNames.includes(name)) bad(`duplicate param name "${name}"`);
      paramNames.push(name);
      segments.push({ kind: 'param', name });
      literal = false;
    } else {
      if (part.includes('*')) bad('"*" is only allowed as the whole last segment');
      if (part.includes(':')) bad('":" is only allowed at the start of a segment');
      segments.push({ kind: 'static', text: part });
      if (literal) staticPrefix += '/' + part;
    }
  }
  // Params and `*` are pchar, so a valid pattern is its own canonical form.
  const canon = normalizePath(pattern, { mergeSlashes: false, encodedSlash: 'keep' });
  if (!canon.ok) bad(canon.reason);
  else if (canon.path !== pattern) bad(`not in canonical form (would match as "${canon.path}")`);
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

function shapeOf(s: PatternSegment): string {
  return s.kind === 'static' ? s.text : s.kind === 'param' ? ':' : '*';
}
