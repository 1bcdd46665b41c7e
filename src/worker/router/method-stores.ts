/**
 * The per-method stores at one leaf of the radix tree (one pattern shape).
 */

/** What a leaf hands back for a method: the store and the route that registered it. */
export interface StoreEntry<T> {
  readonly store: T;
  readonly routeId: string;
}

/**
 * Method table of one leaf. Preference when picking for a request: the exact method,
 * then the any-method store, then (for HEAD only) the GET store, because a HEAD
 * response is a GET response without its body.
 */
export class MethodStores<T> {
  #byMethod = new Map<string, StoreEntry<T>>();
  #any: StoreEntry<T> | null = null;

  /** Register `entry` for `methods` (empty = any method). Conflicts are checked earlier. */
  set(methods: readonly string[], entry: StoreEntry<T>): void {
    if (methods.length === 0) this.#any = entry;
    for (const m of methods) this.#byMethod.set(m, entry);
  }

  /** The preferred entry for `method`, or null when this leaf does not accept it. */
  pick(method: string): StoreEntry<T> | null {
    const exact = this.#byMethod.get(method);
    if (exact !== undefined) return exact;
    if (this.#any !== null) return this.#any;
    if (method === 'HEAD') return this.#byMethod.get('GET') ?? null;
    return null;
  }

  /** Every entry accepting `method`, in preference order (for priority search). */
  pickAll(method: string): StoreEntry<T>[] {
    const out: StoreEntry<T>[] = [];
    const exact = this.#byMethod.get(method);
    if (exact !== undefined) out.push(exact);
    if (this.#any !== null) out.push(this.#any);
    if (method === 'HEAD') {
      const get = this.#byMethod.get('GET');
      if (get !== undefined) out.push(get);
    }
    return out;
  }

  /** True when some entry accepts every method. */
  get acceptsAny(): boolean {
    return this.#any !== null;
  }

  /** The explicitly registered methods. */
  methods(): IterableIterator<string> {
    return this.#byMethod.keys();
  }
}

/**
 * The methods two registrations share: null when disjoint, `[]` when both accept any
 * method, otherwise the shared list (an any-method side shares all of the other's).
 */
export function overlappingMethods(a: readonly string[], b: readonly string[]): string[] | null {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  const shared = a.filter((m) => b.includes(m));
  return shared.length === 0 ? null : shared;
}
