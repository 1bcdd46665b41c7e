/**
 * Resilience settings of a service as they travel in the snapshot: retries, outlier
 * detection (the breaker), resource limits and active health checks. Defaults are
 * filled in by the control plane's schema; workers and the primary read them as is.
 */

/** What makes a failed try worth another: network failures or upstream statuses. */
export type RetryCondition = 'connect-failure' | 'reset' | 'timeout' | number;

/** Retry policy of a service (routes may allow non-idempotent methods). */
export interface RetryConfig {
  /** Retries after the first try (0 = never retry). */
  readonly attempts: number;
  readonly on: readonly RetryCondition[];
  /** Headers deadline of one try; 0 = the service's `timeouts.headersMs`. */
  readonly perTryTimeoutMs: number;
  /** Deadline for all tries together (until response headers); 0 = none beyond the tries'. */
  readonly totalTimeoutMs: number;
  /** Full-jitter exponential backoff: a try waits random(0, min(maxMs, baseMs·2^n)). */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Retries stay within `percent` % of requests (+ `minPerSecond`) over a 10 s window. */
  readonly budget: { readonly percent: number; readonly minPerSecond: number };
}

/** Outlier detection per instance (Envoy's vocabulary; see worker/upstream/outlier-detector.ts). */
export interface OutlierConfig {
  readonly enabled: boolean;
  /** Eject after this many 5xx or gateway failures in a row (0 = off). */
  readonly consecutive5xx: number;
  /** Eject after this many 502/503/504 or connect/reset/timeout failures in a row (0 = off). */
  readonly consecutiveGatewayFailure: number;
  /** Eject when failures/requests over `windowMs` reach `percent` with at least `minRequests` (percent 0 = off). */
  readonly failureRate: { readonly percent: number; readonly minRequests: number; readonly windowMs: number };
  /** First ejection lasts baseEjectionMs; the n-th lasts n × base, capped at maxEjectionMs. */
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  /** At most this share of the service's instances is ejected (at least one may always be). */
  readonly maxEjectionPercent: number;
  /** Below this share of available instances, balance over all of them (panic). 0 = never. */
  readonly panicThresholdPercent: number;
}

/** Envoy-style circuit-breaker thresholds of a service, per worker process. */
export interface ServiceLimitsConfig {
  /** Requests in flight to the service (0 = unlimited). */
  readonly maxRequests: number;
  /** Requests waiting for a pooled connection (0 = unlimited). */
  readonly maxPendingRequests: number;
  /** Retries in flight at once (0 = no retries). */
  readonly maxRetries: number;
  /** Open WebSocket tunnels (0 = unlimited); a handshake over it is a 503. */
  readonly maxTunnels: number;
}

/** Active HTTP probe of every instance, run once per node in the control thread. */
export interface HealthCheckConfig {
  readonly enabled: boolean;
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive successes before an unhealthy instance is healthy again. */
  readonly healthyThreshold: number;
  /** Consecutive failures before a healthy instance is marked unhealthy. */
  readonly unhealthyThreshold: number;
  /** Statuses that count as healthy, e.g. [200, 204] or ranges "200-399". */
  readonly expectedStatuses: readonly (number | string)[];
}

/*
 * Breaker arithmetic shared by the workers (local decisions) and the primary (node-wide
 * authority), so both sides always agree on caps, durations, panic and state names.
 */

/** How many of `total` instances may be ejected at once: `percent` of them, but at least one. */
export function ejectionCap(total: number, percent: number): number {
  return Math.max(1, Math.floor((total * percent) / 100));
}

/** Duration of the next ejection of an instance ejected `ejections` times before. */
export function ejectionMs(config: OutlierConfig, ejections: number): number {
  return Math.min(config.maxEjectionMs, config.baseEjectionMs * (ejections + 1));
}

/** True when `available` of `total` instances is below the panic threshold (0 = never). */
export function inPanic(available: number, total: number, thresholdPercent: number): boolean {
  return thresholdPercent > 0 && available * 100 < thresholdPercent * total;
}

/** The breaker state of an instance ejected until `ejectedUntil` (0 = not ejected). */
export function breakerState(ejectedUntil: number, now: number): 'closed' | 'open' | 'half-open' {
  return ejectedUntil === 0 ? 'closed' : now < ejectedUntil ? 'open' : 'half-open';
}
