/**
 * A small LRU cache of verified tokens, so a client reusing its token does not pay for a
 * signature check on every request. Keys are SHA-256 hashes of the token (the cache never
 * holds a bearer credential), prefixed by the provider. An entry is never served at or
 * after the token's `exp`, and at most `maxAgeMs` after it was verified (default 5 min),
 * which bounds how long a token signed by a key since removed from the JWKS stays
 * accepted. LRU via Map insertion order: a hit moves the entry to the end.
 */
import { hash } from 'node:crypto';
import type { Identity } from './identity.js';

interface Entry {
  readonly identity: Identity;
  readonly untilMs: number;
}

/** Bounded verified-token cache. */
export class TokenCache {
  readonly #max: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(max: number, opts: { maxAgeMs?: number; now?: () => number } = {}) {
    this.#max = max;
    this.#maxAgeMs = opts.maxAgeMs ?? 300_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cache key of `token` for `provider`. */
  static keyOf(provider: string, token: string): string {
    // One-shot hash: about 40 % cheaper than a Hash object for a token-sized input.
    return `${provider}\n${hash('sha256', token, 'base64url')}`;
  }

  /** The identity for `key`, when cached and still valid. */
  get(key: string): Identity | null {
    const e = this.#entries.get(key);
    if (e === undefined) return null;
    this.#entries.delete(key);
    if (this.#now() >= e.untilMs) return null;
    this.#entries.set(key, e);
    return e.identity;
  }

  /** Remember `identity` for `key`; `expSec` is the token's `exp` (seconds), if any. */
  set(key: string, identity: Identity, expSec: number | undefined): void {
    if (this.#max === 0) return;
    const now = this.#now();
    const untilMs = Math.min(now + this.#maxAgeMs, expSec === undefined ? Infinity : expSec * 1000);
    if (untilMs <= now) return;
    this.#entries.delete(key);
    this.#entries.set(key, { identity, untilMs });
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
