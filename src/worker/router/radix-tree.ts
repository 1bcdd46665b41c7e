/**
 * Radix tree for one host: path → per-method stores.
 *
 * Structure (as in find-my-way): static edges are compressed runs of characters and are
 * looked up by their first char code; a param node consumes one non-empty segment; a
 * wildcard consumes the rest of the path. Param names are erased (the caller keeps them
 * on its route, see `parsePattern`), so `/u/:id` and `/u/:uid` share nodes and values
 * come back positionally.
 *
 * Lookup is a backtracking depth-first search. At every position it tries the static
 * child, then the param child, then the wildcard, and returns the first leaf that
 * accepts the method. That order equals comparing patterns segment by segment with
 * end-of-pattern < static < param < wildcard, which is what makes `/api` beat `/api/*`
 * on `/api`, and what the linear oracle in the tests implements by sorting.
 *
 * Registration throws (`RouteDefinitionError`, `RouteConflictError`) and checks
 * everything before touching the tree; lookup never throws.
 */
import { MethodStores, overlappingMethods, type StoreEntry } from './method-stores.js';
import { parsePattern, type ParsedPattern } from './parse-pattern.js';
import { RouteConflictError } from './route-errors.js';
import { ParamNode, StaticNode, type TreeNode } from './tree-nodes.js';

/** A successful lookup. `params` are in pattern order; `wildcard` is null without `*`. */
export interface TreeMatch<T> {
  readonly store: T;
  readonly routeId: string;
  readonly params: string[];
  readonly wildcard: string | null;
}

/** Methods accepted by the routes matching a path (for a 405's `Allow` header). */
export interface AllowedMethods {
  /** Some matching route accepts every method; `methods` then is not exhaustive. */
  readonly anyMethod: boolean;
  /** Sorted explicit methods, with `HEAD` added when `GET` is present. */
  readonly methods: string[];
}

/** An existing registration that a new one would collide with. */
export interface TreeConflict {
  readonly routeId: string;
  readonly pattern: string;
  /** The overlapping methods (empty: both accept any method). */
  readonly methods: string[];
}

interface Registration {
  readonly routeId: string;
  readonly pattern: string;
  readonly methods: readonly string[];
}

type Visitor<T> = (stores: MethodStores<T>, params: string[], wildcard: string | null) => boolean;

const SLASH = 0x2f;

/** Path router for one host; see the header for the algorithm. */
export class RadixTree<T> {
  #root = new StaticNode<T>('');
  #shapes = new Map<string, Registration[]>();
  #size = 0;

  /** Number of registered (pattern, methods) pairs. */
  get size(): number {
    return this.#size;
  }

  /** Register `store` for `pattern` and `methods` (empty = any). Returns the parse. */
  add(pattern: string, methods: readonly string[], store: T, routeId: string): ParsedPattern {
    const parsed = parsePattern(pattern);
    const unique = [...new Set(methods)];
    const conflict = this.findConflict(parsed, unique);
    if (conflict !== null) {
      throw new RouteConflictError({
        existingRouteId: conflict.routeId,
        existingPattern: conflict.pattern,
        routeId,
        pattern,
        methods: conflict.methods,
      });
    }
    const entry: StoreEntry<T> = { store, routeId };
    for (const stores of this.#storesFor(parsed)) stores.set(unique, entry);
    const regs = this.#shapes.get(parsed.shape) ?? [];
    regs.push({ routeId, pattern, methods: unique });
    this.#shapes.set(parsed.shape, regs);
    this.#size++;
    return parsed;
  }

  /** The registration `add` would collide with, or null. Does not modify the tree. */
  findConflict(pattern: string | ParsedPattern, methods: readonly string[]): TreeConflict | null {
    const parsed = typeof pattern === 'string' ? parsePattern(pattern) : pattern;
    for (const reg of this.#shapes.get(parsed.shape) ?? []) {
      const overlap = overlappingMethods(reg.methods, methods);
      if (overlap !== null) return { routeId: reg.routeId, pattern: reg.pattern, methods: overlap };
    }
    return null;
  }

  /** The most specific route for `method` and `path`, or null. Never throws. */
  find(method: string, path: string): TreeMatch<T> | null {
    if (path.charCodeAt(0) !== SLASH) return null;
    return this.#find(this.#root, method, path, 0, []);
  }

  /**
   * Like `find`, but over every match: the one with the highest `rank(store)`, ties
   * going to the earlier one in `find` order. Used when routes carry priorities.
   */
  findBest(method: string, path: string, rank: (store: T) => number): TreeMatch<T> | null {
    if (path.charCodeAt(0) !== SLASH) return null;
    let best: TreeMatch<T> | null = null;
    let bestRank = -Infinity;
    this.#visit(this.#root, path, 0, [], (stores, params, wildcard) => {
      for (const e of stores.pickAll(method)) {
        const r = rank(e.store);
        if (r > bestRank) {
          bestRank = r;
          best = { store: e.store, routeId: e.routeId, params: params.slice(), wildcard };
        }
      }
      return false;
    });
    return best;
  }

  /** Methods of every route matching `path`, whatever the method. Never throws. */
  allowedMethods(path: string): AllowedMethods {
    const methods = new Set<string>();
    let anyMethod = false;
    if (path.charCodeAt(0) === SLASH) {
      this.#visit(this.#root, path, 0, [], (stores) => {
        anyMethod ||= stores.acceptsAny;
        for (const m of stores.methods()) methods.add(m);
        return false;
      });
    }
    if (methods.has('GET')) methods.add('HEAD');
    return { anyMethod, methods: [...methods].sort() };
  }

  // Hot path: a specialised copy of #visit that stops at the first accepting leaf.
  // `params` is pushed/popped while backtracking, so on success it holds exactly the
  // values of the matched branch and can be returned without copying.
  #find(node: TreeNode<T>, method: string, path: string, pos: number, params: string[]): TreeMatch<T> | null {
    const len = path.length;
    if (pos === len) {
      const e = node.leaf?.pick(method);
      if (e != null) return { store: e.store, routeId: e.routeId, params, wildcard: null };
      const b = node.bareWildcard?.pick(method);
      if (b != null) return { store: b.store, routeId: b.routeId, params, wildcard: '' };
    } else {
      const child = node.staticChildren.get(path.charCodeAt(pos));
      if (child !== undefined && path.startsWith(child.prefix, pos)) {
        const r = this.#find(child, method, path, pos + child.prefix.length, params);
        if (r !== null) return r;
      }
      const param = node.paramChild;
      if (param !== null) {
        let end = path.indexOf('/', pos);
        if (end === -1) end = len;
        if (end > pos) {
          params.push(path.slice(pos, end));
          const r = this.#find(param, method, path, end, params);
          if (r !== null) return r;
          params.pop();
        }
      }
    }
    const w = node.wildcard?.pick(method);
    if (w != null) return { store: w.store, routeId: w.routeId, params, wildcard: path.slice(pos) };
    return null;
  }

  /** Every leaf matching `path`, in `find` order, until `fn` returns true. */
  #visit(node: TreeNode<T>, path: string, pos: number, params: string[], fn: Visitor<T>): boolean {
    const len = path.length;
    if (pos === len) {
      if (node.leaf !== null && fn(node.leaf, params, null)) return true;
      if (node.bareWildcard !== null && fn(node.bareWildcard, params, '')) return true;
    } else {
      const child = node.staticChildren.get(path.charCodeAt(pos));
      if (child !== undefined && path.startsWith(child.prefix, pos)) {
        if (this.#visit(child, path, pos + child.prefix.length, params, fn)) return true;
      }
      if (node.paramChild !== null) {
        let end = path.indexOf('/', pos);
        if (end === -1) end = len;
        if (end > pos) {
          params.push(path.slice(pos, end));
          if (this.#visit(node.paramChild, path, end, params, fn)) return true;
          params.pop();
        }
      }
    }
    return node.wildcard !== null && fn(node.wildcard, params, path.slice(pos));
  }

  /**
   * Create the nodes for a pattern and return the method tables to fill: the leaf, or
   * for `…/*` the wildcard table plus the bare table one level up (so `/api/*` also
   * matches `/api`). `/*` has no bare form: the empty path is never looked up.
   */
  #storesFor(parsed: ParsedPattern): MethodStores<T>[] {
    let node: TreeNode<T> = this.#root;
    let text = '/'; // literal characters not yet inserted
    const segs = parsed.segments;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      const last = i === segs.length - 1;
      if (seg.kind === 'static') {
        text += last ? seg.text : seg.text + '/';
      } else if (seg.kind === 'param') {
        node = insertStatic(node, text);
        node = node.paramChild ??= new ParamNode<T>();
        text = last ? '' : '/';
      } else {
        const out: MethodStores<T>[] = [];
        const bare = insertStatic(node, text.slice(0, -1));
        if (bare !== this.#root) out.push((bare.bareWildcard ??= new MethodStores<T>()));
        const owner = insertStatic(bare, '/');
        out.push((owner.wildcard ??= new MethodStores<T>()));
        return out;
      }
    }
    node = insertStatic(node, text);
    return [(node.leaf ??= new MethodStores<T>())];
  }
}

/**
 * Walk/extend the static edges below `parent` so that a node ends exactly after
 * `text`, splitting a compressed edge where `text` diverges from it.
 */
function insertStatic<T>(parent: TreeNode<T>, text: string): TreeNode<T> {
  while (text.length > 0) {
    const code = text.charCodeAt(0);
    const child = parent.staticChildren.get(code);
    if (child === undefined) {
      const created = new StaticNode<T>(text);
      parent.staticChildren.set(code, created);
      return created;
    }
    const max = Math.min(child.prefix.length, text.length);
    let common = 1; // the first char matched via the map key
    while (common < max && child.prefix.charCodeAt(common) === text.charCodeAt(common)) common++;
    if (common < child.prefix.length) child.split(common);
    text = text.slice(common);
    parent = child;
  }
  return parent;
}
