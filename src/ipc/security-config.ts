/**
 * Snapshot types of request hardening, CORS and security response headers. Plain JSON,
 * filled with defaults by the control plane (schema-security.ts) and frozen on receipt.
 */

/**
 * Client address lists (`ipRestriction`) of a route or of the server: IP addresses or
 * CIDRs, matched against the client address (the peer, or from a trusted proxy the
 * nearest untrusted `X-Forwarded-For` hop, as rate limits key it).
 */
export interface IpRestrictionConfig {
  /** When not empty, only clients in one of these are served. */
  readonly allow: readonly string[];
  /** Clients in one of these are refused, even when `allow` holds them too. */
  readonly deny: readonly string[];
}

/** Stricter per-route request limits; server-wide limits stay the parser's hard ceiling. */
export interface RouteLimitsConfig {
  readonly maxBodyBytes?: number;
  readonly maxUrlBytes?: number;
  readonly maxHeaderBytes?: number;
  readonly maxHeaderCount?: number;
}

/** CORS policy of one route (preflights are answered by the gateway). */
export interface CorsConfig {
  /** Exact origins (`https://app.example.com`), `https://*.example.com` patterns, or `*`. */
  readonly origins: readonly string[];
  /** Methods a preflight may ask for (upper case). */
  readonly methods: readonly string[];
  /** Request headers a preflight may ask for (lower case); `*` allows any (not with credentials). */
  readonly headers: readonly string[];
  /** Response headers scripts may read. */
  readonly exposeHeaders: readonly string[];
  readonly credentials: boolean;
  /** Preflight cache lifetime (`Access-Control-Max-Age`); 0 omits the header. */
  readonly maxAgeSeconds: number;
}

/** `Strict-Transport-Security`; sent only on requests known to be HTTPS. */
export interface HstsConfig {
  readonly maxAgeSeconds: number;
  readonly includeSubDomains: boolean;
  readonly preload: boolean;
}

/** Security response headers; `false`/null leaves that header alone. */
export interface SecurityHeadersConfig {
  readonly hsts: HstsConfig | false;
  /** `X-Content-Type-Options: nosniff`. */
  readonly contentTypeOptions: boolean;
  readonly frameOptions: 'DENY' | 'SAMEORIGIN' | false;
  readonly contentSecurityPolicy: string | null;
  readonly referrerPolicy: string | null;
  /** Remove `Server` and `X-Powered-By` from upstream responses. */
  readonly hideServerHeaders: boolean;
  /** More upstream response headers to remove (lower case). */
  readonly removeResponseHeaders: readonly string[];
}

/** Route-level overrides of the server-wide security headers (each key replaces the default). */
export type RouteSecurityHeadersConfig = Partial<SecurityHeadersConfig>;

/** Methods every route accepts unless `server.methods` says otherwise. */
export const DEFAULT_METHODS: readonly string[] = Object.freeze(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Security headers when a snapshot carries none (hand-built test snapshots). */
export const DEFAULT_SECURITY_HEADERS: SecurityHeadersConfig = Object.freeze({
  hsts: false,
  contentTypeOptions: true,
  frameOptions: 'DENY',
  contentSecurityPolicy: null,
  referrerPolicy: null,
  hideServerHeaders: true,
  removeResponseHeaders: Object.freeze([]) as readonly string[],
});
