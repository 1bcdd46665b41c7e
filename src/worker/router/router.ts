/**
 * Host tiers over per-host radix trees, with route priorities.
 *
 * Candidates for (method, host, path) are totally ordered by:
 *   1. higher `priority`;
 *   2. host tier: the exact host, then wildcard hosts by longer suffix, then any host;
 *   3. path specificity (segment by segment, static < param < wildcard; the tree's order);
 *   4. exact method, then any-method, then HEAD served by GET (the leaf's order).
 * Each host pattern has its own tree, so 2 is the order in which trees are searched and
 * 3–4 are the tree's DFS order. Priority cuts across both, so each tree tracks the min
 * and max priority registered in it: a tree that cannot beat the best match so far is
 * skipped, a tree of uniform priority answers with plain `find`, and only a tree mixing
 * priorities is searched exhaustively (`findBest`). With every priority at 0 (the common
 * case) the first tier that matches ends the search.
 */
import { parseHostPattern, type HostPattern } from './host-pattern.js';
import { overlappingMethods } from './method-stores.js';
import { parsePattern, type ParsedPattern } from './parse-pattern.js';
import { RadixTree, type TreeMatch } from './radix-tree.js';
import { RouteConflictError, RouteDefinitionError } from './route-errors.js';

/** The matching-relevant part of a route. */
export interface RouteSpec {
  readonly id: string;
  /** Methods as sent by clients (upper-case); empty = every method. */
  readonly methods: readonly string[];
  /** Exact hosts or `*.suffix` patterns; empty = any host. */
  readonly hosts: readonly string[];
  /** Path patterns (see `parsePattern`). */
  readonly paths: readonly string[];
  /** Higher wins over host tier and path specificity. */
  readonly priority: number;
}

/** Outcome of `Router.find`. */
export type RouteLookup<T> =
  | {
      readonly kind: 'found';
      readonly store: T;
      readonly routeId: string;
      /** The path pattern that matched; its `paramNames` name `params` positionally. */
      readonly pattern: ParsedPattern;
      readonly params: string[];
      readonly wildcard: string | null;
    }
  | { readonly kind: 'method-not-allowed'; readonly allow: string[] }
  | { readonly kind: 'not-found' };

interface Entry<T> {
  readonly store: T;
  readonly priority: number;
  readonly pattern: ParsedPattern;
}

type Match<T> = TreeMatch<Entry<T>>;

/** One host pattern's tree and the priority range registered in it. */
interface Tier<T> {
  readonly tree: RadixTree<Entry<T>>;
  min: number;
  max: number;
}

const NOT_FOUND: RouteLookup<never> = Object.freeze({ kind: 'not-found' });
const rankOf = (e: Entry<unknown>): number => e.priority;

/** Routes requests by host, path and method; see the header for the order. */
export class Router<T> {
  #exact = new Map<string, Tier<T>>();
  /** Keyed by suffix with its leading dot (`.example.com`). */
  #wildcard = new Map<string, Tier<T>>();
  #any: Tier<T> | null = null;
  #maxPriority = -Infinity;

  /**
   * Register every path of `route` on each of its hosts. Validates everything (patterns,
   * hosts, conflicts) before changing anything, so a throw leaves the router as it was.
   * Returns the parsed paths in the order given.
   */
  add(route: RouteSpec, store: T): readonly ParsedPattern[] {
    if (route.paths.length === 0) throw new RouteDefinitionError(route.id, 'no paths', 'route');
    if (!Number.isFinite(route.priority)) {
      throw new RouteDefinitionError(route.id, 'priority must be a finite number', 'route');
    }
    const parsed = route.paths.map(parsePattern);
    const hosts: (HostPattern | null)[] =
      route.hosts.length === 0 ? [null] : route.hosts.map(parseHostPattern);
    const methods = [...new Set(route.methods)];
    const pending: { host: HostPattern | null; pattern: ParsedPattern }[] = [];
    for (const host of hosts) {
      const tier = this.#tierFor(host, false);
      for (const pattern of parsed) {
        const hit = tier?.tree.findConflict(pattern, methods);
        const self = pending.find((p) => p.host?.key === host?.key && p.pattern.shape === pattern.shape);
        if (hit != null || self !== undefined) {
          throw new RouteConflictError({
            existingRouteId: hit?.routeId ?? route.id,
            existingPattern: hit?.pattern ?? self!.pattern.pattern,
            routeId: route.id,
            pattern: pattern.pattern,
            methods: hit?.methods ?? overlappingMethods(methods, methods)!,
            host: host === null ? null : host.key,
          });
        }
        pending.push({ host, pattern });
      }
    }
    for (const { host, pattern } of pending) {
      const tier = this.#tierFor(host, true)!;
      tier.tree.add(pattern.pattern, methods, { store, priority: route.priority, pattern }, route.id);
      tier.min = Math.min(tier.min, route.priority);
      tier.max = Math.max(tier.max, route.priority);
    }
    this.#maxPriority = Math.max(this.#maxPriority, route.priority);
    return parsed;
  }

  /** Route a request; `hostname` lower-case without port, `path` normalised. */
  find(method: string, hostname: string, path: string): RouteLookup<T> {
    let best: Match<T> | null = null;
    const exact = this.#exact.get(hostname);
    if (exact !== undefined) {
      best = search(exact, method, path, best);
      if (best !== null && best.store.priority >= this.#maxPriority) return found(best);
    }
    if (this.#wildcard.size > 0) {
      // Dots from the left give suffixes longest first; index ≥ 1 keeps one label before.
      for (let i = hostname.indexOf('.', 1); i !== -1; i = hostname.indexOf('.', i + 1)) {
        const tier = this.#wildcard.get(hostname.slice(i));
        if (tier === undefined) continue;
        best = search(tier, method, path, best);
        if (best !== null && best.store.priority >= this.#maxPriority) return found(best);
      }
    }
    if (this.#any !== null) best = search(this.#any, method, path, best);
    if (best !== null) return found(best);
    return this.#methodNotAllowed(hostname, path);
  }

  // Off the hot path: only requests that matched nothing get here.
  #methodNotAllowed(hostname: string, path: string): RouteLookup<T> {
    const allow = new Set<string>();
    const collect = (tier: Tier<T> | undefined | null): void => {
      if (tier != null) for (const m of tier.tree.allowedMethods(path).methods) allow.add(m);
    };
    collect(this.#exact.get(hostname));
    for (let i = hostname.indexOf('.', 1); i !== -1; i = hostname.indexOf('.', i + 1)) {
      collect(this.#wildcard.get(hostname.slice(i)));
    }
    collect(this.#any);
    if (allow.size === 0) return NOT_FOUND;
    return { kind: 'method-not-allowed', allow: [...allow].sort() };
  }

  #tierFor(host: HostPattern | null, create: boolean): Tier<T> | null {
    const map = host === null ? null : host.kind === 'exact' ? this.#exact : this.#wildcard;
    const key = host === null ? '' : host.kind === 'exact' ? host.host : host.suffix;
    let tier = map === null ? this.#any : (map.get(key) ?? null);
    if (tier === null && create) {
      tier = { tree: new RadixTree<Entry<T>>(), min: Infinity, max: -Infinity };
      if (map === null) this.#any = tier;
      else map.set(key, tier);
    }
    return tier;
  }
}

/** The better of `best` and this tier's best match (ties keep `best`: earlier tier). */
function search<T>(tier: Tier<T>, method: string, path: string, best: Match<T> | null): Match<T> | null {
  if (best !== null && tier.max <= best.store.priority) return best;
  const m =
    tier.min === tier.max ? tier.tree.find(method, path) : tier.tree.findBest(method, path, rankOf);
  if (m === null) return best;
  return best === null || m.store.priority > best.store.priority ? m : best;
}

function found<T>(m: Match<T>): RouteLookup<T> {
  const { store, pattern } = m.store;
  return { kind: 'found', store, routeId: m.routeId, pattern, params: m.params, wildcard: m.wildcard };
}
