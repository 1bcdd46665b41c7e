/**
 * The authentication and authorization step of a request, for one config snapshot.
 *
 * For every request (auth configured at all): strip client copies of the identity
 * headers and API key credentials. For routes with `auth`: find the credential
 * (credentials.ts), verify it (API key: sync lookup; JWT: async, cached), then check the
 * route's roles (any one of them) and scopes (all of them). The result is what the
 * pipeline needs to go on (identity, upstream raw headers, query without the key), or an
 * AuthError carrying its `WWW-Authenticate` challenge:
 *   no credential → 401 GW_UNAUTHENTICATED; bad one → 401 GW_INVALID_CREDENTIALS
 *   (error="invalid_token"); keys unreachable → 503 GW_AUTH_UNAVAILABLE; authenticated
 *   but not allowed → 403 GW_FORBIDDEN (error="insufficient_scope").
 * Each refusal is counted and written to the audit log.
 */
import type { IncomingMessage } from 'node:http';
import { decodeJwt } from 'jose';
import { AuthError, AuthUnavailableError, ForbiddenError, InvalidCredentialsError, UnauthenticatedError } from '../../../common/index.js';
import type { AuthConfig, RouteConfig } from '../../../ipc/index.js';
import type { AuditLog, HotCounter } from '../../../telemetry/index.js';
import type { ApiKeyIndex } from './api-key-index.js';
import { findCredential, withoutQueryParam, type Credential } from './credentials.js';
import { CredentialRejected, type Identity } from './identity.js';
import { IdentityHeaders } from './identity-headers.js';
import type { JwtProvider } from './jwt-provider.js';

/** What a request may go on with. */
export interface Admitted {
  readonly identity: Identity | null;
  /** Request target with the API key query parameter removed. */
  readonly target: string;
  /** Index of `?` in `target`, or -1. */
  readonly q: number;
  /** Raw headers to build the upstream request from. */
  readonly raw: string[];
}

/** Per-request facts the audit record needs. */
export interface RequestFacts {
  readonly requestId: string;
  readonly target: string;
  readonly q: number;
  /** Client address (computed only for refusals). */
  readonly client: () => string;
}

/** The auth step for one snapshot. */
export class AuthPolicy {
  readonly #config: AuthConfig;
  readonly #providers: ReadonlyMap<string, JwtProvider>;
  readonly #keys: ApiKeyIndex | null;
  readonly #audit: AuditLog;
  readonly #decisions: HotCounter;
  readonly #headers: IdentityHeaders;
  readonly #plans: WeakMap<RouteConfig, { providers: readonly JwtProvider[]; keys: AuthConfig['apiKeys'] | null }>;
  readonly #maxTokenBytes: number;

  constructor(config: AuthConfig, deps: { providers: ReadonlyMap<string, JwtProvider>; keys: ApiKeyIndex | null; audit: AuditLog; decisions: HotCounter }) {
    this.#config = config;
    this.#providers = deps.providers;
    this.#keys = config.apiKeys === null ? null : deps.keys;
    this.#audit = deps.audit;
    this.#decisions = deps.decisions;
    this.#plans = new WeakMap();
    this.#headers = new IdentityHeaders(config.identityHeaders, config.apiKeys?.header ?? null);
    this.#maxTokenBytes = Math.max(0, ...config.jwt.map((p) => p.maxTokenBytes));
  }

  /** Authenticate and authorize `req` for `route`: sync when no JWT is involved. */
  admit(req: IncomingMessage, route: RouteConfig, facts: RequestFacts): Admitted | AuthError | Promise<Admitted | AuthError> {
    let { target, q } = facts;
    const param = this.#config.apiKeys?.queryParam ?? null;
    const query = q === -1 ? null : target.slice(q + 1);
    if (param !== null && query !== null && query.length > 0) {
      const kept = withoutQueryParam(query, param);
      if (kept !== query) [target, q] = kept === '' ? [target.slice(0, q), -1] : [`${target.slice(0, q)}?${kept}`, q];
    }
    const rules = route.auth;
    if (rules === null || rules === undefined) return { identity: null, target, q, raw: this.#headers.rewrite(req.rawHeaders, null, false) };

    const { providers, keys } = this.#plan(route);
    let credential: Credential | null;
    try {
      credential = findCredential(req, query, { jwt: providers.length > 0, keys });
    } catch (err) {
      return this.#refuse(route, facts, null, err as CredentialRejected);
    }
    if (credential === null) {
      this.#decisions.inc([route.id, 'missing']);
      this.#audit.record('auth.failure', { requestId: facts.requestId, route: route.id, client: facts.client(), reason: 'no credentials', status: 401 });
      return new UnauthenticatedError(this.#config.realm);
    }
    const done = (identity: Identity): Admitted | AuthError => {
      const denied = this.#authorize(route, identity);
      if (denied !== null) {
        this.#decisions.inc([route.id, 'forbidden']);
        this.#audit.record('auth.forbidden', { requestId: facts.requestId, route: route.id, client: facts.client(), method: identity.method, subject: identity.subject, keyId: identity.keyId, reason: denied.message, status: 403 });
        return denied;
      }
      this.#decisions.inc([route.id, 'allowed']);
      return { identity, target, q, raw: this.#headers.rewrite(req.rawHeaders, identity, credential.source === 'authorization' && credential.kind === 'api-key') };
    };
    if (credential.kind === 'api-key') {
      try {
        return done(this.#keys!.verify(credential.value));
      } catch (err) {
        return this.#refuse(route, facts, credential, err);
      }
    }
    let provider: JwtProvider;
    try {
      provider = this.#pickProvider(credential.value, providers);
    } catch (err) {
      return this.#refuse(route, facts, credential, err);
    }
    // A cached token needs no await (the common case: clients reuse their token).
    // Hashed once for both the lookup and, on a miss, the verification.
    const key = provider.cacheKey(credential.value);
    const hit = provider.cached(credential.value, key);
    if (hit !== null) return done(hit);
    return provider.verify(credential.value, key).then(done, (err: unknown) => this.#refuse(route, facts, credential, err, provider.method));
  }

  /** A route's JWT providers and API-key settings, worked out once per route (the policy lives per snapshot). */
  #plan(route: RouteConfig): { providers: readonly JwtProvider[]; keys: AuthConfig['apiKeys'] | null } {
    let plan = this.#plans.get(route);
    if (plan === undefined) {
      const methods = route.auth?.methods ?? [];
      plan = {
        providers: methods.filter((m) => m.startsWith('jwt:')).map((m) => this.#providers.get(m.slice(4))!),
        keys: methods.includes('api-key') ? this.#config.apiKeys : null,
      };
      this.#plans.set(route, plan);
    }
    return plan;
  }

  /** The provider for a token: the only one, or the one whose issuer the token names. */
  #pickProvider(token: string, providers: readonly JwtProvider[]): JwtProvider {
    if (providers.length === 1) return providers[0]!;
    // Bounded before decoding: the payload is only base64-decoded and JSON-parsed here.
    if (token.length > this.#maxTokenBytes) throw new CredentialRejected(`token over ${this.#maxTokenBytes} bytes`, 'token too large');
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new CredentialRejected('malformed token');
    }
    const match = providers.find((p) => p.config.issuer === iss);
    if (match === undefined) throw new CredentialRejected(`issuer ${JSON.stringify(iss)} is not accepted on this route`);
    return match;
  }

  #authorize(route: RouteConfig, identity: Identity): ForbiddenError | null {
    const rules = route.auth!;
    if (rules.roles.length > 0 && !rules.roles.some((r) => identity.roles.includes(r))) {
      return new ForbiddenError(this.#config.realm, `requires one of the roles: ${rules.roles.join(', ')}`, []);
    }
    const missing = rules.scopes.filter((s) => !identity.scopes.includes(s));
    if (missing.length > 0) return new ForbiddenError(this.#config.realm, `missing scope: ${missing.join(' ')}`, rules.scopes);
    return null;
  }

  #refuse(route: RouteConfig, facts: RequestFacts, credential: Credential | null, err: unknown, method?: string): AuthError {
    const rejected = err instanceof CredentialRejected ? err : new CredentialRejected(`verification error: ${String(err)}`);
    this.#decisions.inc([route.id, rejected.unavailable ? 'unavailable' : 'invalid']);
    this.#audit.record('auth.failure', {
      requestId: facts.requestId,
      route: route.id,
      client: facts.client(),
      method: method ?? (credential === null ? null : credential.kind),
      source: credential?.source ?? null,
      reason: rejected.reason,
      status: rejected.unavailable ? 503 : 401,
    });
    return rejected.unavailable ? new AuthUnavailableError(rejected.client, rejected.retryAfterS) : new InvalidCredentialsError(this.#config.realm, rejected.client);
  }
}
