/**
 * Route path patterns (`/static/:param/*`) for the router. The grammar lives in
 * `ipc/route-pattern.ts`, shared with the control plane, so a config the loader accepts
 * always registers here and vice versa; this wrapper only turns a rejection into the
 * router's registration error. Patterns are validated once, at registration, so lookup
 * never has to.
 */
import { parsePattern as parseShared, type ParsedPattern } from '../../ipc/index.js';
import { RouteDefinitionError } from './route-errors.js';

export type { ParsedPattern, PatternSegment } from '../../ipc/index.js';

/** Parse and validate a path pattern; throws `RouteDefinitionError` naming the pattern. */
export function parsePattern(pattern: string): ParsedPattern {
  const parsed = parseShared(pattern);
  if (typeof parsed === 'string') throw new RouteDefinitionError(pattern, parsed);
  return parsed;
}
