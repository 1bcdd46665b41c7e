/**
 * Where API key records live. Embedded mode keeps them in a JSON file
 * (`FileKeyRepository`); the cluster issue adds a MySQL implementation of the same
 * interface. Records hold the keyed hash, never the key.
 */

/** A per-key rate limit (`requests` per `per`), replacing the route's `api-key` limits. */
export interface KeyRateLimit {
  readonly requests: number;
  readonly per: 's' | 'm' | 'h' | 'd' | number;
}

/** One stored API key. */
export interface ApiKeyRecord {
  /** Lookup handle, part of the key itself (`gwk_<id>_...`). */
  readonly id: string;
  /** HMAC-SHA256(pepper, key), base64url. */
  readonly hash: string;
  readonly owner: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  /** ISO timestamps; null = never expires / not revoked. */
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly rateLimit: KeyRateLimit | null;
}

/** Storage of API key records. */
export interface KeyRepository {
  /** Every record (revoked and expired included). */
  list(): Promise<ApiKeyRecord[]>;
  /** Store a new record; the id must be unused. */
  add(record: ApiKeyRecord): Promise<void>;
  /** Mark `id` revoked at `at`; resolves with the updated record, or null if unknown. */
  revoke(id: string, at: Date): Promise<ApiKeyRecord | null>;
}

/** Status of a record at `now`. */
export function keyStatus(r: ApiKeyRecord, now: number): 'active' | 'revoked' | 'expired' {
  if (r.revokedAt !== null) return 'revoked';
  if (r.expiresAt !== null && Date.parse(r.expiresAt) <= now) return 'expired';
  return 'active';
}
