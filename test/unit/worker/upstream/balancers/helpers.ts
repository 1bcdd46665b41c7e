/** Shared fixtures for the balancer tests: endpoints, seeded and scripted random sources. */
import type { Endpoint } from '../../../../../src/worker/upstream/balancers/index.js';

/** Endpoints named a, b, c... with the given weights and no requests in flight. */
export function endpoints(...weights: number[]): Endpoint[] {
  return weights.map((weight, i) => ({ id: String.fromCharCode(97 + i), weight, active: 0 }));
}

/** mulberry32: a tiny seeded PRNG, so distribution tests are reproducible. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random source that returns `values` in order, then throws (a test drew too often). */
export function scripted(...values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error(`scripted random exhausted after ${values.length} draws`);
    return values[i++]!;
  };
}

/** Ids of `count` consecutive picks (null shown as '-'). */
export function sequence(pick: () => Endpoint | null, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(pick()?.id ?? '-');
  return out;
}

/** How often each id occurs in `count` picks. */
export function tally(pick: () => Endpoint | null, count: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const id = pick()?.id ?? '-';
    out[id] = (out[id] ?? 0) + 1;
  }
  return out;
}

/** A skip predicate rejecting the given ids. */
export function skipIds(...ids: string[]): (e: Endpoint) => boolean {
  const set = new Set(ids);
  return (e) => set.has(e.id);
}
