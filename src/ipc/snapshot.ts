/**
 * The validated, defaulted configuration as it crosses from the control plane to the
 * data plane. Plain JSON (it travels over node:cluster IPC), frozen on receipt.
 */
import type { CorsConfig, IpRestrictionConfig, RouteLimitsConfig, RouteSecurityHeadersConfig, SecurityHeadersConfig } from './security-config.js';

import type { HealthCheckConfig, OutlierConfig, RetryConfig, ServiceLimitsConfig } from './resilience-config.js';
import type { AuthConfig, RouteAuthConfig } from './auth-config.js';
import type { TelemetryConfig } from './tracing-config.js';
import type { TlsConfig } from './tls-config.js';

/** Load-balancing algorithms a service can choose. */
export type LoadBalancerKind =
  | 'round-robin'
  | 'weighted-round-robin'
  | 'least-connections'
  | 'random'
  | 'p2c';

/** One upstream instance of a service. */
export interface InstanceConfig {
  /** Origin with optional base path, e.g. `http://10.0.0.5:8080` or `http://h:80/base`. */
  readonly url: string;
  /** Relative weight for weighted balancers (1..1000). */
  readonly weight: number;
}

/** Per-service upstream timeouts, in milliseconds. */
export interface ServiceTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  readonly bodyMs: number;
  /** A WebSocket tunnel with no traffic either way for this long is closed. */
  readonly tunnelIdleMs: number;
}

/** undici pool limits for each origin of a service. */
export interface PoolConfig {
  readonly connections: number;
  readonly pipelining: number;
  readonly keepAliveTimeoutMs: number;
}

/** A named group of upstream instances. */
export interface ServiceConfig {
  readonly name: string;
  readonly loadBalancer: LoadBalancerKind;
  readonly instances: readonly InstanceConfig[];
  readonly timeouts: ServiceTimeouts;
  readonly pool: PoolConfig;
  /** Node-wide limits shared by every route of the service. */
  readonly rateLimits: readonly RateLimitConfig[];
  readonly retry: RetryConfig;
  readonly outlierDetection: OutlierConfig;
  readonly limits: ServiceLimitsConfig;
  readonly healthCheck: HealthCheckConfig;
}

/** A route: which requests match and where they go. */
export interface RouteConfig {
  readonly id: string;
  /** Path patterns: static segments, `:param` segments, optional trailing `*`. */
  readonly paths: readonly string[];
  /** Upper-case methods; empty means every method. */
  readonly methods: readonly string[];
  /** Exact hosts or `*.suffix` patterns; empty means any host. */
  readonly hosts: readonly string[];
  /** Higher wins when routes on different host tiers match the same request. */
  readonly priority: number;
  readonly service: string;
  /** Remove the static prefix before the trailing `*` from the upstream path. */
  readonly stripPrefix: boolean;
  /** Upstream path template using `:param` names and `*`; null keeps the path. */
  readonly rewrite: string | null;
  /** Send the client's Host header upstream instead of the instance's authority. */
  readonly preserveHost: boolean;
  /** Retry this route's requests whatever their method (default: idempotent methods only). */
  readonly retryable: boolean;
  /** Proxy WebSocket upgrades on this route as tunnels (else `Upgrade` is dropped, as any hop-by-hop field). */
  readonly websocket: boolean;
  /**
   * Answer requests not known to be HTTPS with a 308 to the same URL over HTTPS (absent =
   * false). The config's default is true with a plain listener beside TLS (`server.tls.httpPort`).
   */
  readonly httpsRedirect?: boolean;
  /** Which rate-limit header families responses carry. */
  readonly rateLimitHeaders: 'both' | 'ietf' | 'legacy' | 'none';
  /** Node-wide limits; a request must pass all of them (and its service's). */
  readonly rateLimits: readonly RateLimitConfig[];
  /** Stricter request limits for this route (security-config.ts); absent = server-wide. */
  readonly limits?: RouteLimitsConfig;
  /** CORS policy; absent/null = the gateway does no CORS for this route. */
  readonly cors?: CorsConfig | null;
  /** Overrides of `server.securityHeaders` for this route. */
  readonly securityHeaders?: RouteSecurityHeadersConfig;
  /** Client addresses this route serves or refuses, on top of the server's; absent = no lists. */
  readonly ipRestriction?: IpRestrictionConfig;
  /** Authentication/authorization the route requires; absent or null = none. */
  readonly auth?: RouteAuthConfig | null;
}

/** One rate limit of a route: `requests` per `per` (unit or seconds), keyed by client IP or a header. */
export interface RateLimitConfig {
  readonly requests: number;
  readonly per: 's' | 'm' | 'h' | 'd' | number;
  readonly burst?: number;
  /** `ip` (peer address, or X-Forwarded-For from trusted proxies), `header:<name>`, `api-key` or `subject`. */
  readonly key: string;
}

/** Listener, limits and timeouts of the worker HTTP servers. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Worker processes; 0 means one per CPU. */
  readonly workers: number;
  /** Reserved path prefix for /health, /ready (routes may not use it). */
  readonly reservedPrefix: string;
  /** CIDRs whose X-Forwarded-* headers are trusted and extended instead of replaced. */
  readonly trustedProxies: readonly string[];
  /** CIDRs of peers that may read /metrics and /status (TCP peer address, not X-Forwarded-For). */
  readonly adminAllow: readonly string[];
  /** Name used in the Via header. */
  readonly viaName: string;
  readonly limits: {
    readonly maxBodyBytes: number;
    readonly maxUrlBytes: number;
    readonly maxHeaderBytes: number;
    readonly maxHeaderCount: number;
    /** Concurrent connections per client IP and worker; 0 = unlimited (security-config.ts). */
    readonly maxConnectionsPerIp?: number;
  };
  readonly timeouts: {
    readonly headersMs: number;
    readonly requestMs: number;
    readonly keepAliveMs: number;
    readonly drainMs: number;
  };
  /** Method allowlist (upper case); absent = DEFAULT_METHODS. */
  readonly methods?: readonly string[];
  /** Default security response headers; absent = DEFAULT_SECURITY_HEADERS. */
  readonly securityHeaders?: SecurityHeadersConfig;
  /** Client addresses every route serves or refuses (a route's own lists apply too); absent = none. */
  readonly ipRestriction?: IpRestrictionConfig;
  readonly paths: {
    /** Collapse `//` into `/` before routing. */
    readonly mergeSlashes: boolean;
    /** `%2F` and `%5C` in a path: reject with 400, or keep encoded inside a segment. */
    readonly encodedSlash: 'reject' | 'keep';
    /** `;` in a path: kept (dot segments with parameters refused), or refused. */
    readonly semicolons: 'keep' | 'reject';
  };
  /** TLS termination; absent or null = plain HTTP (see tls-config.ts). */
  readonly tls?: TlsConfig | null;
}

/** Everything a worker needs to serve, versioned. */
export interface ConfigSnapshot {
  /** Monotonic per primary run; 1 is the config the node started with. */
  readonly version: number;
  /** Where it was loaded from (for logs and /ready). */
  readonly source: string;
  readonly loadedAt: string;
  readonly server: ServerConfig;
  readonly services: readonly ServiceConfig[];
  readonly routes: readonly RouteConfig[];
  /** Authentication settings; absent or null = no auth configured. */
  readonly auth?: AuthConfig | null;
  /** Tracing (see tracing-config.ts). */
  readonly telemetry: TelemetryConfig;
}

/** Recursively freeze a snapshot so no worker code can mutate shared config. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
