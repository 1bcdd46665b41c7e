/**
 * In-process limiter store with a hard bound on the number of buckets.
 *
 * One bucket per (limit, key), in a Map for lookup and in a binary min-heap ordered by
 * `fullAt`, the time the bucket is full again (ties: least recently used first). When a
 * new bucket would exceed `maxKeys`, the heap's root is evicted inside that same `take`:
 * no timers, no sweeps, O(log maxKeys) per take. `fullAt` only moves when the bucket is
 * used, so the heap needs fixing only then.
 *
 * Why this order. A full bucket carries no state: a bucket recreated for the same key
 * starts full, identical to the one dropped. The root is full whenever any bucket is, so
 * eviction loses nothing while any full bucket exists; among full buckets it takes the
 * one idle longest (LRU). Only when all `maxKeys` buckets are partly drained is one lost,
 * and then the one closest to full, which loses the least.
 *
 * What a flood of distinct keys can and cannot do:
 * - It cannot grow memory past `maxKeys` buckets (plus their key strings: bound key
 *   length where keys are built), and it cannot stop a new key from being tracked.
 * - It cannot cause a lossy eviction while any stored bucket is full.
 * - A lost (non-full) bucket's key starts over full, so it gains at most the tokens it
 *   was missing, at most `burst`, once per lossy eviction. Over any window a key gets at
 *   most burst + rate × window + burst × (its lossy evictions in that window).
 * - To evict a bucket that is D ms from full, every other stored bucket must be more than
 *   D ms from full. A flood of one request per key at rate r leaves buckets 1/r from full,
 *   so it displaces only buckets at least that close to full; evicting a drained bucket
 *   takes maxKeys - 1 buckets drained deeper (in time), i.e. the flood spends more tokens
 *   per key than the victim is missing.
 * - Limits compete by time, not tokens: one request under a 1-per-day limit leaves a
 *   bucket a day from full, so a flood on a slow limit displaces buckets of fast limits
 *   (each such loss still bounded by one burst). Give slow limits their own store if that
 *   matters. `evictions.partial` counts lossy evictions: non-zero means maxKeys is below
 *   the working set.
 */
import { performance } from 'node:perf_hooks';
import type { ParsedLimit } from './limit-spec.js';
import type { LimiterStore } from './limiter-store.js';
import { TokenBucket, type Clock, type Decision } from './token-bucket.js';

/** Options for `LocalLimiterStore`. */
export interface LocalLimiterStoreOptions {
  /** Most buckets kept at once; default 100 000. */
  readonly maxKeys?: number;
  /** Monotonic ms clock shared by all buckets; `performance.now` by default. */
  readonly clock?: Clock;
}

/** Eviction counts: `full` ones lost nothing, `partial` ones gave a key up to one extra burst. */
export interface EvictionCounts {
  readonly full: number;
  readonly partial: number;
}

/** Default bound on buckets: a few MB of heap. */
export const DEFAULT_MAX_KEYS = 100_000;

interface Entry {
  readonly id: string;
  readonly bucket: TokenBucket;
  fullAt: number;
  used: number;
  slot: number;
}

/** Buckets in memory, at most `maxKeys`, evicting full (idle) buckets first. */
export class LocalLimiterStore implements LimiterStore {
  readonly #maxKeys: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #heap: Entry[] = [];
  #useCount = 0;
  #evictedFull = 0;
  #evictedPartial = 0;

  /** Throws RangeError if maxKeys is not a whole number >= 1. */
  constructor(options: LocalLimiterStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`LocalLimiterStore: maxKeys must be a whole number >= 1, got ${maxKeys}`);
    }
    this.#maxKeys = maxKeys;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Buckets currently held (never more than maxKeys). */
  get size(): number {
    return this.#entries.size;
  }

  /** The bound on buckets held. */
  get maxKeys(): number {
    return this.#maxKeys;
  }

  /** Evictions so far, by whether the bucket was full (lossless) or not. */
  get evictions(): EvictionCounts {
    return { full: this.#evictedFull, partial: this.#evictedPartial };
  }

  /** Whether a bucket for `key` under `limit` is currently held. */
  has(key: string, limit: ParsedLimit): boolean {
    return this.#entries.has(bucketId(key, limit));
  }

  /** Take `n` tokens from the bucket of `key` under `limit`; a new bucket starts full. */
  take(key: string, limit: ParsedLimit, n = 1): Decision {
    const id = bucketId(key, limit);
    let entry = this.#entries.get(id);
    let decision: Decision;
    if (entry === undefined) {
      const bucket = new TokenBucket({
        capacity: limit.capacity,
        refillTokens: limit.refillTokens,
        refillIntervalMs: limit.refillIntervalMs,
        clock: this.#clock,
      });
      // Take before inserting: a bad n throws here and leaves the store untouched.
      decision = bucket.take(n);
      if (this.#entries.size >= this.#maxKeys) this.#evict();
      entry = { id, bucket, fullAt: bucket.fullAt, used: ++this.#useCount, slot: this.#heap.length };
      this.#entries.set(id, entry);
      this.#heap.push(entry);
      this.#siftUp(entry);
      return decision;
    }
    decision = entry.bucket.take(n);
    entry.fullAt = entry.bucket.fullAt;
    entry.used = ++this.#useCount;
    // fullAt usually grows (tokens taken) and `used` always does: the entry sinks.
    this.#siftDown(entry);
    this.#siftUp(entry);
    return decision;
  }

  /** Drop the root: the bucket full longest, else the one closest to full. */
  #evict(): void {
    const heap = this.#heap;
    const root = heap[0]!;
    const last = heap.pop()!;
    if (last !== root) {
      heap[0] = last;
      last.slot = 0;
      this.#siftDown(last);
    }
    this.#entries.delete(root.id);
    if (root.fullAt <= this.#clock()) this.#evictedFull++;
    else this.#evictedPartial++;
  }

  #siftUp(e: Entry): void {
    const heap = this.#heap;
    let i = e.slot;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!before(e, parent)) break;
      heap[i] = parent;
      parent.slot = i;
      i = p;
    }
    heap[i] = e;
    e.slot = i;
  }

  #siftDown(e: Entry): void {
    const heap = this.#heap;
    const n = heap.length;
    let i = e.slot;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && before(heap[c + 1]!, heap[c]!)) c++;
      const child = heap[c]!;
      if (!before(child, e)) break;
      heap[i] = child;
      child.slot = i;
      i = c;
    }
    heap[i] = e;
    e.slot = i;
  }
}

/** Heap order: earlier fullAt first, then least recently used. */
function before(a: Entry, b: Entry): boolean {
  return a.fullAt < b.fullAt || (a.fullAt === b.fullAt && a.used < b.used);
}

/** One bucket per (limit, key); limit ids never contain '|', so this cannot collide. */
function bucketId(key: string, limit: ParsedLimit): string {
  return `${limit.id}|${key}`;
}
