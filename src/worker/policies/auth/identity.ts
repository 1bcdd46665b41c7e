/** Who a request was authenticated as, and why a credential was refused. */
import type { KeyRateLimit } from '../../../common/api-keys/index.js';

/** An authenticated caller. */
export interface Identity {
  /** `api-key` or `jwt:<provider>`. */
  readonly method: string;
  /** JWT subject claim, or the API key's owner. */
  readonly subject: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  /** The API key id (null for JWTs). */
  readonly keyId: string | null;
  /** The API key's own rate limit, replacing the route's `api-key` limits. */
  readonly rateLimit: KeyRateLimit | null;
}

/** Why a presented credential failed; `reason` goes to the audit log, `client` to the caller. */
export class CredentialRejected extends Error {
  readonly reason: string;
  readonly client: string;
  /** True when the gateway could not judge (JWKS unreachable): 503, not 401. */
  readonly unavailable: boolean;
  /** Unavailable: seconds until the gateway tries again (the 503's Retry-After), or null. */
  readonly retryAfterS: number | null;
  constructor(reason: string, client = 'invalid token', unavailable = false, retryAfterS: number | null = null) {
    super(reason);
    this.reason = reason;
    this.client = client;
    this.unavailable = unavailable;
    this.retryAfterS = retryAfterS;
  }
}
