/** Public surface of the router: path normalisation, pattern parsing, trees, host tiers. */
export { normalizePath, type NormalizeOptions, type NormalizeResult } from './normalize-path.js';
export { parsePattern, type ParsedPattern, type PatternSegment } from './parse-pattern.js';
export { parseHostPattern, type HostPattern } from './host-pattern.js';
export { RadixTree, type TreeMatch, type AllowedMethods, type TreeConflict } from './radix-tree.js';
export { Router, type RouteSpec, type RouteLookup } from './router.js';
export { RouteDefinitionError, RouteConflictError } from './route-errors.js';
