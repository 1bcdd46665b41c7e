/**
 * The data plane in the test process: a WorkerServer + GatewayHandler on a real socket
 * with a hand-built snapshot. Fast enough for per-behaviour tests of the proxy path.
 */
import pino from 'pino';
import type { Registry } from 'prom-client';
import type { ConfigSnapshot } from '../../src/ipc/index.js';
import { GatewayHandler, RouteTable } from '../../src/worker/pipeline/index.js';
import { PoolSet } from '../../src/worker/upstream/index.js';
import { WorkerServer } from '../../src/worker/server.js';
import { ConnectionMetrics, createRegistry, DataPlaneMetrics, type RequestTracer } from '../../src/telemetry/index.js';
import { RateLimitHub } from '../../src/primary/rate-limit-hub.js';
import { RefusalCache } from '../../src/worker/policies/index.js';
import type { AuthPolicy } from '../../src/worker/policies/index.js';

/** A running in-process gateway. */
export interface InProcessGateway {
  readonly url: string;
  readonly port: number;
  readonly server: WorkerServer;
  readonly handler: GatewayHandler;
  readonly pools: PoolSet;
  /** The gateway's metrics registry (Prometheus text via `registry.metrics()`). */
  readonly registry: Registry;
  /** Access-log records written so far. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Start the data plane on `snapshot` (port 0), with an optional auth policy; `tracer` turns tracing on. */
export async function startInProcess(
  snapshot: ConfigSnapshot,
  opts: { auth?: AuthPolicy | null; tracer?: RequestTracer | null; rateLimitDelayMs?: number; logLevel?: string; accessLog?: boolean } = {},
): Promise<InProcessGateway> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: opts.logLevel ?? 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const pools = new PoolSet();
  const registry = createRegistry();
  const limiter = new RateLimitHub(1000);
  const metrics = new DataPlaneMetrics(registry);
  const handler = new GatewayHandler(new RouteTable(snapshot, pools), {
    logger,
    accessLog: opts.accessLog ?? true,
    slot: 0,
    metrics,
    scrape: async () => ({ text: await registry.metrics(), contentType: registry.contentType }),
    // The primary's decision logic, in-process, behind the worker's refusal cache.
    rateLimit: new RefusalCache(
      async (checks) => {
        // A slow primary, for tests of what happens while a request waits for its verdict.
        if (opts.rateLimitDelayMs !== undefined) await new Promise((r) => setTimeout(r, opts.rateLimitDelayMs));
        return limiter.decide(checks);
      },
      { onLocal: () => metrics.rateLimitLocalRefusals.inc([]) },
    ).ask,
    auth: opts.auth ?? null,
    tracer: opts.tracer ?? null,
  });
  const server = new WorkerServer(snapshot.server, handler, logger, new ConnectionMetrics(registry));
  await server.listen('127.0.0.1', 0);
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port,
    server,
    handler,
    pools,
    registry,
    logs,
    async close() {
      await server.drain(1000);
      await pools.destroy();
    },
  };
}
