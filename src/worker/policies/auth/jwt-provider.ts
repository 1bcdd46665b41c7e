/**
 * Verifies JWTs for one provider with `jose`.
 *
 * Order matters: the size limit applies to the raw header value before anything parses
 * it; then the verified-token cache; then `jwtVerify` with the provider's algorithm
 * allowlist (so `alg: none` and any algorithm of the other key family fail before a key
 * is even looked up), issuer, audiences, clock tolerance, required `exp`, and no extra
 * recognized `crit` parameters (jose refuses unknown ones). Keys: the HMAC secret, or
 * public keys from key files first, then the remote JWKS.
 * Failures become CredentialRejected with an audit reason and a short client message.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { JwtProviderConfig } from '../../../ipc/index.js';
import { claimAt, stringsAt } from './claims.js';
import { CredentialRejected, type Identity } from './identity.js';
import type { JwksCache } from './jwks-cache.js';
import { TokenCache } from './token-cache.js';

/** A configured JWT issuer. */
export class JwtProvider {
  readonly config: JwtProviderConfig;
  readonly method: string;
  readonly #key: KeyObject | JWTVerifyGetKey;
  readonly #options: JWTVerifyOptions;
  readonly #cache: TokenCache;

  constructor(config: JwtProviderConfig, deps: { jwks: JwksCache | null; cache: TokenCache }) {
    this.config = config;
    this.method = `jwt:${config.name}`;
    this.#cache = deps.cache;
    if (config.secret !== null) this.#key = createSecretKey(Buffer.from(config.secret, 'utf8'));
    else {
      const local = config.keys.length > 0 ? createLocalJWKSet({ keys: config.keys as never[] }) : null;
      const remote = deps.jwks;
      this.#key = async (header, token) => {
        if (local !== null) {
          try {
            return await local(header, token);
          } catch (err) {
            if (remote === null || !(err instanceof errors.JWKSNoMatchingKey)) throw err;
          }
        }
        return remote!.getKey(header, token);
      };
    }
    this.#options = {
      algorithms: [...config.algorithms],
      issuer: config.issuer,
      // Only an explicit `any` turns the check off; an empty list matches nothing.
      ...(config.audiences === 'any' ? {} : { audience: [...config.audiences] }),
      clockTolerance: config.clockToleranceSec,
      requiredClaims: config.requireExp ? ['exp'] : [],
      crit: {},
    };
  }

  /** The cache key of `token` (a hash), or null for a token over the size limit (never hashed). */
  cacheKey(token: string): string | null {
    return token.length > this.config.maxTokenBytes ? null : TokenCache.keyOf(this.config.name, token);
  }

  /**
   * The identity of an already verified, unexpired `token`, synchronously; null on a miss.
   * `key`: its `cacheKey`, when the caller has it already (a miss then goes on to `verify`).
   */
  cached(token: string, key: string | null = this.cacheKey(token)): Identity | null {
    return key === null ? null : this.#cache.get(key);
  }

  /** Verify `token` (`key`: its `cacheKey`); resolves with the identity or rejects with CredentialRejected. */
  async verify(token: string, key: string | null = this.cacheKey(token)): Promise<Identity> {
    if (token.length > this.config.maxTokenBytes || key === null) throw new CredentialRejected(`token over ${this.config.maxTokenBytes} bytes`, 'token too large');
    const cacheKey = key;
    const hit = this.#cache.get(cacheKey);
    if (hit !== null) return hit;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#key as JWTVerifyGetKey, this.#options));
    } catch (err) {
      throw rejection(err);
    }
    const claims = payload as Record<string, unknown>;
    const subject = claimAt(claims, this.config.claims.subject);
    // Any text without control characters: it is forwarded in a header (encoded if needed).
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256 || /[\x00-\x1f\x7f]/.test(subject)) {
      throw new CredentialRejected(`claim "${this.config.claims.subject}" (subject) missing or not a usable string`);
    }
    const identity: Identity = {
      method: this.method,
      subject,
      roles: stringsAt(claims, this.config.claims.roles),
      scopes: stringsAt(claims, this.config.claims.scopes),
      keyId: null,
      rateLimit: null,
    };
    this.#cache.set(cacheKey, identity, payload.exp);
    return identity;
  }
}

/** jose's error → an audit reason and a client message that leaks nothing useful. */
function rejection(err: unknown): CredentialRejected {
  if (err instanceof CredentialRejected) return err;
  if (err instanceof errors.JWTExpired) return new CredentialRejected('token expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new CredentialRejected('token not yet valid (nbf)', 'token not yet valid');
    if (err.claim === 'iat') return new CredentialRejected('token issued in the future (iat)', 'token not yet valid');
    return new CredentialRejected(`claim "${err.claim}" ${err.reason}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new CredentialRejected('algorithm not allowed');
  if (err instanceof errors.JWKSNoMatchingKey) return new CredentialRejected('no key matches the token (unknown kid)');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new CredentialRejected('signature verification failed');
  if (err instanceof errors.JOSEError) return new CredentialRejected(`${err.code}: ${err.message}`);
  return new CredentialRejected(`verification error: ${(err as Error)?.message ?? String(err)}`);
}
