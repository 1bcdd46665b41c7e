/**
 * Node kinds of the radix tree, as in find-my-way: static (a compressed run of literal
 * characters), parametric (one non-empty segment) and wildcard (the rest of the path).
 *
 * A wildcard has no children, so it is represented by its method table alone
 * (`TreeNode.wildcard`). Kept in one file: the classes are tiny and only make sense
 * together.
 */
import { MethodStores } from './method-stores.js';

/** What every node can hang below itself. */
export abstract class TreeNode<T> {
  /** Static children keyed by the first char code of their prefix (distinct by radix). */
  readonly staticChildren = new Map<number, StaticNode<T>>();
  /** At most one param child: param names are erased, so `:a` and `:b` share it. */
  paramChild: ParamNode<T> | null = null;
  /** Routes ending in `/*` whose `/` is the last character consumed by this node. */
  wildcard: MethodStores<T> | null = null;
  /** Routes ending exactly here. */
  leaf: MethodStores<T> | null = null;
  /**
   * Routes `<here>/*` matched without the slash: `/api/*` also matches `/api` with an
   * empty wildcard. Kept apart from `leaf` so `/api` and `/api/*` do not conflict and
   * the static route wins.
   */
  bareWildcard: MethodStores<T> | null = null;
}

/** A run of literal characters (the radix edge label). */
export class StaticNode<T> extends TreeNode<T> {
  prefix: string;
  constructor(prefix: string) {
    super();
    this.prefix = prefix;
  }

  /**
   * Split this edge after `at` characters: this node keeps the head and gets a single
   * child holding the tail and everything that hung below. Returns nothing; the node
   * object stays in place so the parent's map needs no update.
   */
  split(at: number): void {
    const tail = new StaticNode<T>(this.prefix.slice(at));
    for (const [k, v] of this.staticChildren) tail.staticChildren.set(k, v);
    tail.paramChild = this.paramChild;
    tail.wildcard = this.wildcard;
    tail.leaf = this.leaf;
    tail.bareWildcard = this.bareWildcard;
    this.prefix = this.prefix.slice(0, at);
    this.staticChildren.clear();
    this.staticChildren.set(tail.prefix.charCodeAt(0), tail);
    this.paramChild = null;
    this.wildcard = null;
    this.leaf = null;
    this.bareWildcard = null;
  }
}

/** One `:param` segment; its value ends at the next `/` or the end of the path. */
export class ParamNode<T> extends TreeNode<T> {}
