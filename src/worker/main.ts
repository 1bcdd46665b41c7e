/**
 * Worker process entry (forked by the primary through node:cluster): the composition
 * root of the data plane. It waits for a config snapshot over IPC, starts listening, and
 * from then on only serves requests, swaps snapshots and drains on request.
 */
import { EXIT_CANNOT_LISTEN, PROTOCOL_VERSION, RATE_LIMIT_BATCH_FEATURE, deepFreeze, isProtocolMessage, type ConfigSnapshot, type EndpointState, type FromWorker, type ToWorker } from '../ipc/index.js';
import { Agent } from 'undici';
import { IpcCalls } from '../ipc/index.js';
import { stateFiles } from '../common/api-keys/index.js';
import {
  AuditFileSink,
  AuditLog,
  ConnectionMetrics,
  createLogger,
  createRegistry,
  createRequestTracer,
  DataPlaneMetrics,
  flushLogger,
  type RequestTracer,
} from '../telemetry/index.js';
import { MetricsClient } from './metrics-client.js';
import { AuthRuntime, RateLimitClient, RefusalCache, type AuthPolicy } from './policies/index.js';
import { GatewayHandler, RouteTable } from './pipeline/index.js';
import { PoolSet } from './upstream/index.js';
import { WorkerServer } from './server.js';

const slot = Number(process.env.GATEWAY_SLOT ?? 0);
const logger = createLogger({ level: process.env.LOG_LEVEL || 'info', base: { role: 'worker', slot }, sync: false });
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
// Over-limit floods are refused locally while the primary's refusal must still hold.
const refusals = new RefusalCache(rateLimits.ask, { onLocal: () => metrics.rateLimitLocalRefusals.inc([]) });
// Latest node-wide endpoint state, re-applied to every table this worker builds.
const endpointStates = new Map<string, EndpointState>();
const statusCalls = new IpcCalls<unknown>(2_000);
// Paths arrive absolute from the CLI (see cli.ts); the cwd fallback serves direct runs.
const files = stateFiles(process.cwd(), process.env);
const auth = new AuthRuntime({
  logger,
  registry,
  audit: new AuditLog({ sink: new AuditFileSink(files.auditLog), logger, registry, base: { role: 'worker', slot } }),
  apiKeysFile: files.apiKeysFile,
  pepper: process.env.GATEWAY_API_KEY_PEPPER || null,
  dispatcher: new Agent({ connections: 4, connect: { timeout: 5_000 } }),
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
    table.applyEndpointStates(endpointStates.values());
  } catch (err) {
    logger.error({ err, configVersion: snapshot.version }, 'config snapshot rejected');
    send({ v: PROTOCOL_VERSION, type: 'worker-rejected', configVersion: snapshot.version, reason: String(err) });
    if (server === null) exit(1);
    return;
  }
  let policy: AuthPolicy | null;
  try {
    policy = await auth.prepare(snapshot);
  } catch (err) {
    logger.error({ err, configVersion: snapshot.version }, 'config snapshot rejected: auth setup failed');
    send({ v: PROTOCOL_VERSION, type: 'worker-rejected', configVersion: snapshot.version, reason: String(err) });
    if (server === null) exit(1);
    return;
  }
  if (handler !== null) {
    handler.setTable(table, policy);
    send({ v: PROTOCOL_VERSION, type: 'worker-ready', configVersion: snapshot.version, pid: process.pid });
    return;
  }
  tracer = createRequestTracer(snapshot.telemetry.tracing, { registry, logger });
  handler = new GatewayHandler(table, {
    logger,
    accessLog,
    slot,
    metrics,
    scrape: () => metricsClient.scrape(),
    rateLimit: refusals.ask,
    auth: policy,
    tracer,
    reportOutlier: (service, url, event) => send({ v: PROTOCOL_VERSION, type: 'outlier-report', service, url, event }),
    status: () =>
      statusCalls.call((id) => {
        if (!process.connected) return false;
        send({ v: PROTOCOL_VERSION, type: 'status-request', id });
        return true;
      }),
  });
  server = new WorkerServer(snapshot.server, handler, logger, new ConnectionMetrics(registry));
  try {
    await server.listen(snapshot.server.host, snapshot.server.port);
  } catch (err) {
    logger.fatal({ err, host: snapshot.server.host, port: snapshot.server.port, httpPort: snapshot.server.tls?.httpPort ?? undefined }, 'cannot listen');
    exit(EXIT_CANNOT_LISTEN);
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
  await auth.close().catch((err: unknown) => logger.error({ err }, 'flushing the audit log failed'));
  // Send the spans of the last requests (bounded: a dead collector must not hold us).
  await tracer?.shutdown(2_000);
  logger.info({ clean }, 'drained');
  exit(0);
}

const drainMs = () => handler?.table.snapshot.server.timeouts.drainMs ?? 0;

process.on('message', (m: unknown) => {
  if (!isProtocolMessage(m)) return;
  const msg = m as ToWorker;
  if (msg.type === 'snapshot') {
    rateLimits.batching(Array.isArray(msg.features) && msg.features.includes(RATE_LIMIT_BATCH_FEATURE));
    void applySnapshot(msg.snapshot);
  }
  else if (msg.type === 'status' && handler !== null) {
    handler.status.workersUp = msg.workersUp;
    handler.status.workersWanted = msg.workersWanted;
    handler.status.configVersion = msg.configVersion;
  } else if (msg.type === 'drain') void drain(msg.timeoutMs, 'primary');
  else if (msg.type === 'rate-limit-verdict') rateLimits.answer(msg.id, msg.verdicts);
  else if (msg.type === 'rate-limit-verdict-batch') rateLimits.answerBatch(msg.answers);
  else if (msg.type === 'endpoint-states') {
    if (msg.full) endpointStates.clear();
    for (const st of msg.states) endpointStates.set(`${st.service}\n${st.url}`, st);
    handler?.table.applyEndpointStates(msg.states);
  } else if (msg.type === 'status-response') statusCalls.settle(msg.id, msg.doc);
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
