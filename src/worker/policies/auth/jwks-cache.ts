/**
 * A provider's remote JWKS, cached per worker.
 *
 * - The set is fetched on first use (and prefetched when a snapshot is applied), then
 *   refreshed in the background once older than `maxAgeMs`; requests keep using the
 *   cached set meanwhile.
 * - A token whose `kid` is not in the set triggers a refetch (key rotation), but at most
 *   one fetch starts per `minRefetchIntervalMs`: random kids cannot turn the gateway
 *   into a load generator against the identity provider. Concurrent callers share the
 *   one fetch in flight.
 * - A failed fetch (down, timeout, non-200, malformed) keeps the last good set (stale
 *   keys beat no keys) and is logged; with no set at all, verification reports the keys
 *   as unavailable (503 with a Retry-After), never as an invalid token.
 * - While no fetch ever succeeded, the wait between attempts starts at 1 s and doubles up
 *   to `minRefetchIntervalMs`: an identity provider that was down for a moment at start
 *   (a deploy, a restart) costs about that moment, not `minRefetchIntervalMs` of 503s.
 * Bodies are capped at 1 MiB; each fetch has a deadline (`timeoutMs`).
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { JwksSourceConfig } from '../../../ipc/index.js';
import type { Logger } from '../../../telemetry/index.js';
import { CredentialRejected } from './identity.js';

/** Fetches a JWKS document; rejects on any failure. */
export type JwksFetch = (url: string, timeoutMs: number) => Promise<unknown>;

type GetKeyArgs = Parameters<JWTVerifyGetKey>;

/** First wait before fetching again while no keys were ever fetched (doubling from there). */
const NO_KEYS_RETRY_MS = 1_000;

/** One remote key set. */
export class JwksCache {
  readonly #config: JwksSourceConfig;
  readonly #fetch: JwksFetch;
  readonly #logger: Logger;
  readonly #now: () => number;
  #set: ReturnType<typeof createLocalJWKSet> | null = null;
  #fetchedAt = -Infinity;
  #lastAttempt = -Infinity;
  #inflight: Promise<void> | null = null;
  /** Failed attempts in a row while there is no set. */
  #failures = 0;
  /** Fetches started (for tests and logs). */
  fetches = 0;

  constructor(config: JwksSourceConfig, deps: { fetch: JwksFetch; logger: Logger; now?: () => number }) {
    this.#config = config;
    this.#fetch = deps.fetch;
    this.#logger = deps.logger;
    this.#now = deps.now ?? (() => performance.now());
  }

  /** Start a fetch now unless one ran recently (snapshot apply warms the cache). */
  prefetch(): Promise<void> {
    return this.#refresh();
  }

  /** jose key resolver: the key for this token's header, refetching on an unknown kid. */
  readonly getKey = async (...args: GetKeyArgs) => {
    if (this.#set === null) await this.#refresh();
    else if (this.#now() - this.#fetchedAt > this.#config.maxAgeMs) void this.#refresh();
    const set = this.#set;
    if (set === null) {
      const retryAfterS = Math.max(1, Math.ceil((this.#lastAttempt + this.#interval() - this.#now()) / 1000));
      throw new CredentialRejected(`JWKS ${this.#config.url} unavailable`, 'token keys unavailable; retry later', true, retryAfterS);
    }
    try {
      return await set(...args);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      if (this.#now() - this.#lastAttempt < this.#config.minRefetchIntervalMs) throw err;
      await this.#refresh();
      if (this.#set === set) throw err;
      return this.#set!(...args);
    }
  };

  /** The least time between two fetches: backing off from 1 s while no keys were ever fetched. */
  #interval(): number {
    const max = this.#config.minRefetchIntervalMs;
    if (this.#set !== null || this.#failures === 0) return max;
    return Math.min(max, NO_KEYS_RETRY_MS * 2 ** (this.#failures - 1));
  }

  #refresh(): Promise<void> {
    if (this.#inflight !== null) return this.#inflight;
    if (this.#now() - this.#lastAttempt < this.#interval()) return Promise.resolve();
    this.#lastAttempt = this.#now();
    this.fetches++;
    this.#inflight = this.#fetch(this.#config.url, this.#config.timeoutMs)
      .then((doc) => {
        this.#set = createLocalJWKSet(doc as JSONWebKeySet);
        this.#fetchedAt = this.#now();
        this.#failures = 0;
      })
      .catch((err: unknown) => {
        if (this.#set === null) this.#failures++;
        this.#logger.warn(
          { err: (err as Error).message, url: this.#config.url, stale: this.#set !== null },
          this.#set === null ? 'JWKS fetch failed; no keys yet' : 'JWKS fetch failed; keeping the cached keys',
        );
      })
      .finally(() => {
        this.#inflight = null;
      });
    return this.#inflight;
  }
}
