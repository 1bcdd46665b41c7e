/**
 * Snapshot pieces of the hardening, CORS and security-header config: exactly the fields
 * of the ipc types (no extra keys leak), header names lower-cased, HSTS defaults filled
 * (Ajv cannot fill defaults inside `anyOf`).
 */
import type { CorsConfig, HstsConfig, IpRestrictionConfig, RouteLimitsConfig, RouteSecurityHeadersConfig, SecurityHeadersConfig } from '../../ipc/index.js';

type RawHsts = false | Partial<HstsConfig>;
type RawHeaders = Partial<Omit<SecurityHeadersConfig, 'hsts'>> & { hsts?: RawHsts };

function hstsOf(raw: RawHsts): HstsConfig | false {
  if (raw === false) return false;
  return { maxAgeSeconds: raw.maxAgeSeconds ?? 31_536_000, includeSubDomains: raw.includeSubDomains ?? false, preload: raw.preload ?? false };
}

/** Only the keys the user wrote (a route override), normalized. */
function headersOf(raw: RawHeaders): RouteSecurityHeadersConfig {
  const out: { -readonly [K in keyof SecurityHeadersConfig]?: SecurityHeadersConfig[K] } = {};
  if (raw.hsts !== undefined) out.hsts = hstsOf(raw.hsts);
  if (raw.contentTypeOptions !== undefined) out.contentTypeOptions = raw.contentTypeOptions;
  if (raw.frameOptions !== undefined) out.frameOptions = raw.frameOptions;
  if (raw.contentSecurityPolicy !== undefined) out.contentSecurityPolicy = raw.contentSecurityPolicy;
  if (raw.referrerPolicy !== undefined) out.referrerPolicy = raw.referrerPolicy;
  if (raw.hideServerHeaders !== undefined) out.hideServerHeaders = raw.hideServerHeaders;
  if (raw.removeResponseHeaders !== undefined) out.removeResponseHeaders = raw.removeResponseHeaders.map((h) => h.toLowerCase());
  return out;
}

type RawIpRestriction = { allow?: string[]; deny?: string[] };

/** The lists of an `ipRestriction`, or null when both are empty (nothing to check). */
function ipRestrictionOf(raw: RawIpRestriction | undefined): IpRestrictionConfig | null {
  const allow = raw?.allow ?? [];
  const deny = raw?.deny ?? [];
  return allow.length === 0 && deny.length === 0 ? null : { allow: [...allow], deny: [...deny] };
}

/** `server.methods`, `server.securityHeaders` (schema-defaulted) and `server.ipRestriction` (when it lists any address). */
export function serverSecuritySnapshot(raw: { methods?: string[]; securityHeaders?: RawHeaders; ipRestriction?: RawIpRestriction }): {
  methods: string[];
  securityHeaders: SecurityHeadersConfig;
  ipRestriction?: IpRestrictionConfig;
} {
  const ipRestriction = ipRestrictionOf(raw.ipRestriction);
  return {
    methods: [...(raw.methods ?? [])],
    securityHeaders: headersOf(raw.securityHeaders ?? {}) as SecurityHeadersConfig,
    ...(ipRestriction === null ? {} : { ipRestriction }),
  };
}

/** A route's `limits`, `cors`, `securityHeaders` and `ipRestriction`, omitted when not configured. */
export function routeSecuritySnapshot(raw: { limits?: RouteLimitsConfig; cors?: CorsConfig; securityHeaders?: RawHeaders; ipRestriction?: RawIpRestriction }): {
  limits?: RouteLimitsConfig;
  cors?: CorsConfig;
  securityHeaders?: RouteSecurityHeadersConfig;
  ipRestriction?: IpRestrictionConfig;
} {
  const out: { limits?: RouteLimitsConfig; cors?: CorsConfig; securityHeaders?: RouteSecurityHeadersConfig; ipRestriction?: IpRestrictionConfig } = {};
  const ipRestriction = ipRestrictionOf(raw.ipRestriction);
  if (ipRestriction !== null) out.ipRestriction = ipRestriction;
  if (raw.limits !== undefined) out.limits = { ...raw.limits };
  if (raw.cors !== undefined) {
    const c = raw.cors;
    out.cors = {
      origins: [...c.origins],
      methods: [...c.methods],
      headers: c.headers.map((h) => h.toLowerCase()),
      exposeHeaders: [...c.exposeHeaders],
      credentials: c.credentials,
      maxAgeSeconds: c.maxAgeSeconds,
    };
  }
  if (raw.securityHeaders !== undefined) out.securityHeaders = headersOf(raw.securityHeaders);
  return out;
}
