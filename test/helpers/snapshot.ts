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
    timeouts: { connectMs: 2_000, headersMs: 5_000, bodyMs: 5_000, ...over.timeouts },
    pool: { connections: 16, pipelining: 1, keepAliveTimeoutMs: 4_000, ...over.pool },
  } as ServiceConfig;
}

/** A route with defaults filled in. */
export function route(id: string, paths: string[], serviceName: string, over: Partial<RouteConfig> = {}): RouteConfig {
  return { id, paths, methods: [], hosts: [], priority: 0, service: serviceName, stripPrefix: false, rewrite: null, preserveHost: false, rateLimits: [], ...over };
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
      viaName: 'gateway',
      ...server,
      limits: { maxBodyBytes: 1024 * 1024, maxUrlBytes: 2048, maxHeaderBytes: 16_384, maxHeaderCount: 50, ...server.limits },
      timeouts: { headersMs: 5_000, requestMs: 30_000, keepAliveMs: 5_000, drainMs: 5_000, ...server.timeouts },
      paths: { mergeSlashes: true, encodedSlash: 'reject', ...server.paths },
    } as ServerConfig,
    services,
    routes,
    telemetry: { tracing: TRACING_OFF },
  };
}
