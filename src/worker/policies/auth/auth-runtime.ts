/**
 * The worker's long-lived auth state, built once in the worker's composition root: the
 * API key index (polls the key file), JWKS caches (kept across snapshots while their
 * settings stay the same, so a reload does not refetch keys or forget a rotation), the
 * audit log and the decisions counter. `prepare(snapshot)` yields the AuthPolicy for a
 * snapshot, or null when the snapshot configures no auth (the request path then skips
 * auth entirely).
 */
import type { Dispatcher } from 'undici';
import type { ConfigSnapshot } from '../../../ipc/index.js';
import { HotCounter, type AuditLog, type Logger } from '../../../telemetry/index.js';
import type { Registry } from 'prom-client';
import { ApiKeyIndex } from './api-key-index.js';
import { AuthPolicy } from './auth-policy.js';
import { createJwksFetch } from './jwks-fetch.js';
import { JwksCache, type JwksFetch } from './jwks-cache.js';
import { JwtProvider } from './jwt-provider.js';
import { TokenCache } from './token-cache.js';

/** What the runtime is built from. */
export interface AuthRuntimeOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly audit: AuditLog;
  readonly apiKeysFile: string;
  /** GATEWAY_API_KEY_PEPPER (the control plane refused the config if it is missing). */
  readonly pepper: string | null;
  /** Dispatcher for JWKS fetches (the worker's own undici Agent). */
  readonly dispatcher?: Dispatcher;
  /** Replaces the HTTP fetcher (tests). */
  readonly fetch?: JwksFetch;
}

/** Auth state shared by every snapshot a worker serves. */
export class AuthRuntime {
  readonly #opts: AuthRuntimeOptions;
  readonly #fetch: JwksFetch;
  readonly #decisions: HotCounter;
  #jwks = new Map<string, JwksCache>();
  #keys: ApiKeyIndex | null = null;

  constructor(opts: AuthRuntimeOptions) {
    this.#opts = opts;
    if (opts.fetch === undefined && opts.dispatcher === undefined) throw new Error('AuthRuntime needs a dispatcher or a fetch function');
    this.#fetch = opts.fetch ?? createJwksFetch(opts.dispatcher!);
    this.#decisions = new HotCounter(
      'gateway_auth_decisions_total',
      'Authentication decisions on routes with auth: allowed, missing, invalid, forbidden, unavailable.',
      ['route', 'result'],
      opts.registry,
    );
  }

  /** Build the policy for `snapshot` (loads the API key file first when keys are used). */
  async prepare(snapshot: ConfigSnapshot): Promise<AuthPolicy | null> {
    const auth = snapshot.auth;
    if (auth === null || auth === undefined) {
      this.#keys?.stop();
      return null;
    }
    const caches = new Map<string, JwksCache>();
    const providers = new Map<string, JwtProvider>();
    const tokens = new TokenCache(auth.tokenCacheSize);
    for (const p of auth.jwt) {
      let jwks: JwksCache | null = null;
      if (p.jwks !== null) {
        const key = JSON.stringify(p.jwks);
        jwks = this.#jwks.get(key) ?? new JwksCache(p.jwks, { fetch: this.#fetch, logger: this.#opts.logger });
        caches.set(key, jwks);
        // Warm the cache without holding up the snapshot: the first token waits for it.
        void jwks.prefetch();
      }
      providers.set(p.name, new JwtProvider(p, { jwks, cache: tokens }));
    }
    this.#jwks = caches;
    if (auth.apiKeys !== null) {
      this.#keys ??= new ApiKeyIndex(this.#opts.apiKeysFile, this.#opts.pepper, { logger: this.#opts.logger });
      await this.#keys.watch(auth.apiKeys.refreshMs);
    } else this.#keys?.stop();
    return new AuthPolicy(auth, { providers, keys: this.#keys, audit: this.#opts.audit, decisions: this.#decisions });
  }

  /** Stop polling and flush the audit log. */
  async close(): Promise<void> {
    this.#keys?.stop();
    await this.#opts.audit.close();
  }
}
