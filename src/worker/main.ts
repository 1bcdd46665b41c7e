/**
 * Worker process entry (forked by the primary through node:cluster): the composition
 * root of the data plane. It waits for a config snapshot over IPC, starts listening, and
 * from then on only serves requests, swaps snapshots and drains on request.
 */
import { PROTOCOL_VERSION, deepFreeze, isProtocolMessage, type ConfigSnapshot, type FromWorker, type ToWorker } from '../ipc/index.js';
import { createLogger, createRegistry, createRequestTracer, DataPlaneMetrics, flushLogger, type RequestTracer } from '../telemetry/index.js';
import { MetricsClient } from './metrics-client.js';
import { RateLimitClient } from './policies/index.js';
import { GatewayHandler, RouteTable } from './pipeline/index.js';
import { PoolSet } from './upstream/index.js';
import { WorkerServer } from './server.js';

const slot = Number(process.env.GATEWAY_SLOT ?? 0);
const logger = createLogger({ level: process.env.LOG_LEVEL, base: { role: 'worker', slot }, sync: false });
const accessLog = process.env.GATEWAY_ACCESS_LOG !== 'off';
const pools = new PoolSet();
const registry = createRegistry();
const metrics = new DataPlaneMetrics(registry);
const metricsClient = new MetricsClient();
const rateLimits = new RateLimitClient((msg) => {
  if (!process.connected || process.send === undefined) return false;
  process.send(msg);
  return true;
});
let handler: GatewayHandler | null = null;
// Built from the first snapshot: a reload replaces the worker, so a new tracing config
// arrives with a new process (and tracer).
let tracer: RequestTracer | null = null;
let server: WorkerServer | null = null;
let draining = false;

function send(msg: FromWorker): void {
  if (process.connected) process.send?.(msg);
}

function exit(code: number): void {
  flushLogger(logger);
  // Let the flushed lines and the IPC channel empty before the process goes away.
  setImmediate(() => process.exit(code));
}

async function applySnapshot(snapshot: ConfigSnapshot): Promise<void> {
  deepFreeze(snapshot);
  let table: RouteTable;
  try {
    table = new RouteTable(snapshot, pools);
  } catch (err) {
    logger.error({ err, configVersion: snapshot.version }, 'config snapshot rejected');
    send({ v: PROTOCOL_VERSION, type: 'worker-rejected', configVersion: snapshot.version, reason: String(err) });
    if (server === null) exit(1);
    return;
  }
  if (handler !== null) {
    handler.setTable(table);
    send({ v: PROTOCOL_VERSION, type: 'worker-ready', configVersion: snapshot.version, pid: process.pid });
    return;
  }
  tracer = createRequestTracer(snapshot.telemetry.tracing, { registry, logger });
  handler = new GatewayHandler(table, { logger, accessLog, slot, metrics, scrape: () => metricsClient.scrape(), rateLimit: rateLimits.ask, tracer });
  server = new WorkerServer(snapshot.server, handler, logger);
  try {
    await server.listen(snapshot.server.host, snapshot.server.port);
  } catch (err) {
    logger.fatal({ err, host: snapshot.server.host, port: snapshot.server.port }, 'cannot listen');
    exit(1);
    return;
  }
  logger.debug({ configVersion: snapshot.version }, 'worker listening');
  send({ v: PROTOCOL_VERSION, type: 'worker-ready', configVersion: snapshot.version, pid: process.pid });
}

async function drain(timeoutMs: number, why: string): Promise<void> {
  if (draining) return;
  draining = true;
  logger.info({ why, timeoutMs, connections: server?.connections ?? 0 }, 'draining');
  const clean = server === null ? true : await server.drain(timeoutMs);
  if (clean) await pools.close();
  else await pools.destroy();
  // Send the spans of the last requests (bounded: a dead collector must not hold us).
  await tracer?.shutdown(2_000);
  logger.info({ clean }, 'drained');
  exit(0);
}

const drainMs = () => handler?.table.snapshot.server.timeouts.drainMs ?? 0;

process.on('message', (m: unknown) => {
  if (!isProtocolMessage(m)) return;
  const msg = m as ToWorker;
  if (msg.type === 'snapshot') void applySnapshot(msg.snapshot);
  else if (msg.type === 'status' && handler !== null) {
    handler.status.workersUp = msg.workersUp;
    handler.status.workersWanted = msg.workersWanted;
    handler.status.configVersion = msg.configVersion;
  } else if (msg.type === 'drain') void drain(msg.timeoutMs, 'primary');
  else if (msg.type === 'rate-limit-verdict') rateLimits.answer(msg.id, msg.verdicts);
  else if (msg.type === 'metrics-response') metricsClient.answer(msg);
  else if (msg.type === 'metrics-collect') {
    registry.getMetricsAsJSON().then(
      (json) => send({ v: PROTOCOL_VERSION, type: 'metrics-report', id: msg.id, metrics: json }),
      (err: unknown) => logger.error({ err }, 'collecting metrics failed'),
    );
  }
});
// The primary owns reloads; a HUP reaching the whole process group must not kill workers.
process.on('SIGHUP', () => {});
// SIGTERM/SIGINT reach workers directly from a terminal or `KillMode=control-group`.
process.on('SIGTERM', () => void drain(drainMs(), 'SIGTERM'));
process.on('SIGINT', () => void drain(drainMs(), 'SIGINT'));
// The primary is gone: nobody will supervise or stop us, so finish and leave.
process.on('disconnect', () => void drain(drainMs(), 'primary disconnected'));
send({ v: PROTOCOL_VERSION, type: 'worker-started', pid: process.pid });
process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception in worker');
  exit(1);
});
