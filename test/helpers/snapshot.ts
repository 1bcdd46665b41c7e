/**
 * Hand-built config snapshots for data-plane unit tests, so worker tests do not depend
 * on the control plane's loader. Values mirror the schema defaults.
 */
import type { ConfigSnapshot, RouteConfig, ServerConfig, ServiceConfig, TracingConfig } from '../../src/ipc/index.js';

type DeepPartial<T> = { -readonly [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Tracing settings as the schema defaults them (off). */
export const TRACING_OFF: TracingConfig = {
  enabled: false,
  serviceName: 'gateway',
  sampleRatio: 0.01,
  exporter: 'jaeger',
  endpoint: 'http://127.0.0.1:14268/api/traces',
  responseHeader: 'x-trace-id',
  queueSize: 2048,
  batchSize: 100,
  flushIntervalMs: 1000,
  exportTimeoutMs: 5000,
};

/** A service with defaults filled in. */
export function service(name: string, urls: string[], over: DeepPartial<ServiceConfig> = {}): ServiceConfig {
  return {
    name,
    loadBalancer: 'round-robin',
    instances: urls.map((url) => ({ url, weight: 1 })),
    ...over,
    timeouts: { connectMs: 2_000, headersMs: 5_000, bodyMs: 5_000, tunnelIdleMs: 300_000, ...over.timeouts },
    pool: { connections: 16, pipelining: 1, keepAliveTimeoutMs: 4_000, ...over.pool },
    rateLimits: (over.rateLimits ?? []) as ServiceConfig['rateLimits'],
    retry: {
      attempts: 1,
      on: ['connect-failure'],
      perTryTimeoutMs: 0,
      totalTimeoutMs: 0,
      ...over.retry,
      backoff: { baseMs: 25, maxMs: 250, ...over.retry?.backoff },
      budget: { percent: 20, minPerSecond: 3, ...over.retry?.budget },
    },
    outlierDetection: {
      enabled: true,
      consecutive5xx: 5,
      consecutiveGatewayFailure: 3,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 50,
      panicThresholdPercent: 50,
      ...over.outlierDetection,
      failureRate: { percent: 0, minRequests: 20, windowMs: 10_000, ...over.outlierDetection?.failureRate },
    },
    limits: { maxRequests: 1024, maxPendingRequests: 1024, maxRetries: 3, maxTunnels: 10_000, ...over.limits },
    healthCheck: {
      enabled: false,
      path: '/health',
      intervalMs: 5_000,
      timeoutMs: 2_000,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      expectedStatuses: ['200-399'],
      ...over.healthCheck,
    },
  } as ServiceConfig;
}

/** A route with defaults filled in. */
export function route(id: string, paths: string[], serviceName: string, over: Partial<RouteConfig> = {}): RouteConfig {
  return { id, paths, methods: [], hosts: [], priority: 0, service: serviceName, stripPrefix: false, rewrite: null, preserveHost: false, retryable: false, websocket: false, rateLimitHeaders: 'both', rateLimits: [], ...over };
}

/** A snapshot listening on 127.0.0.1:0. */
export function snapshot(services: ServiceConfig[], routes: RouteConfig[], server: DeepPartial<ServerConfig> = {}): ConfigSnapshot {
  return {
    version: 1,
    source: 'test',
    loadedAt: new Date(0).toISOString(),
    server: {
      host: '127.0.0.1',
      port: 0,
      workers: 1,
      reservedPrefix: '/__gateway',
      trustedProxies: [],
      adminAllow: ['127.0.0.1/32', '::1/128'],
      viaName: 'gateway',
      ...server,
      limits: { maxBodyBytes: 1024 * 1024, maxUrlBytes: 2048, maxHeaderBytes: 16_384, maxHeaderCount: 50, ...server.limits },
      timeouts: { headersMs: 5_000, requestMs: 30_000, keepAliveMs: 5_000, drainMs: 5_000, ...server.timeouts },
      paths: { mergeSlashes: true, encodedSlash: 'reject', semicolons: 'keep', ...server.paths },
    } as ServerConfig,
    services,
    routes,
    telemetry: { tracing: TRACING_OFF },
  };
}
