/**
 * Authentication and authorization settings as they cross from the control plane to the
 * workers (part of the config snapshot). Key files were read and validated by the control
 * plane; workers receive public JWKs only. HMAC secrets travel here too (interpolated from
 * the environment, never written in the YAML itself): IPC stays on this host.
 */

/** JWS algorithms a provider may allow (`none` is never one of them). */
export const JWT_ALGORITHMS = [
  'HS256', 'HS384', 'HS512',
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA',
] as const;

/** One allowed JWS algorithm. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Where a provider's JWKS comes from and how it is refreshed. */
export interface JwksSourceConfig {
  readonly url: string;
  /** A fetched set is refreshed in the background once it is older than this. */
  readonly maxAgeMs: number;
  /** An unknown `kid` triggers a refetch at most once per this interval. */
  readonly minRefetchIntervalMs: number;
  /** Connect + response deadline of one fetch. */
  readonly timeoutMs: number;
}

/** Claim paths that feed the identity (dotted paths, e.g. `realm_access.roles`). */
export interface JwtClaimPaths {
  readonly subject: string;
  /** Array of strings or a space-separated string; null = no roles from tokens. */
  readonly roles: string | null;
  readonly scopes: string | null;
}

/** One JWT issuer the gateway trusts. Exactly one key source family per provider. */
export interface JwtProviderConfig {
  readonly name: string;
  readonly issuer: string;
  /** Accepted `aud` values (any one must match), or `any`: `aud` deliberately not checked. */
  readonly audiences: readonly string[] | 'any';
  readonly algorithms: readonly JwtAlgorithm[];
  readonly jwks: JwksSourceConfig | null;
  /** Public keys read from `keyFiles` (JWK form, `kid` kept when the file had one). */
  readonly keys: readonly Record<string, unknown>[];
  /** HMAC secret (UTF-8) for HS* algorithms, or null. */
  readonly secret: string | null;
  readonly clockToleranceSec: number;
  /** Tokens longer than this are refused before any parsing. */
  readonly maxTokenBytes: number;
  readonly requireExp: boolean;
  readonly claims: JwtClaimPaths;
}

/** How API keys are presented and refreshed. */
export interface ApiKeysConfig {
  /** Header carrying the key (besides `Authorization: Bearer gwk_...`), lower-case. */
  readonly header: string;
  /** Query parameter carrying the key, or null (default: off). Stripped upstream. */
  readonly queryParam: string | null;
  /** Workers re-check the key file this often; a revocation takes effect within it. */
  readonly refreshMs: number;
}

/** Upstream request headers that carry the authenticated identity (lower-case names). */
export interface IdentityHeadersConfig {
  readonly subject: string;
  readonly roles: string;
  readonly scopes: string;
  readonly keyId: string;
  readonly method: string;
}

/** The whole `auth` section. */
export interface AuthConfig {
  readonly realm: string;
  readonly jwt: readonly JwtProviderConfig[];
  /** null = API keys not accepted anywhere. */
  readonly apiKeys: ApiKeysConfig | null;
  readonly identityHeaders: IdentityHeadersConfig;
  /** Verified-token cache entries per worker (0 disables it). */
  readonly tokenCacheSize: number;
}

/** What a route requires. */
export interface RouteAuthConfig {
  /** Accepted credentials: `api-key` and/or `jwt:<provider>`. */
  readonly methods: readonly string[];
  /** The identity needs at least one of these roles (empty = no role check). */
  readonly roles: readonly string[];
  /** The identity needs every one of these scopes. */
  readonly scopes: readonly string[];
}
