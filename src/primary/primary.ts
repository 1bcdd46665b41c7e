/**
 * The primary process: composition root of the control side. Starts the control thread,
 * loads the first config (an invalid one never starts), starts the workers, and turns
 * signals into supervisor actions: SIGHUP = validate + rolling reload, SIGTERM/SIGINT =
 * drain and exit 0.
 */
import { fileURLToPath } from 'node:url';
import { formatProblem } from '../common/index.js';
import { stateFiles } from '../common/api-keys/index.js';
import { PROTOCOL_VERSION, type ConfigAnswer, type ConfigSnapshot } from '../ipc/index.js';
import { sendToWorker } from './send-to-worker.js';
import type { Logger } from '../telemetry/index.js';
import { AuditFileSink, AuditLog, ControlPlaneMetrics, createRegistry, flushLogger } from '../telemetry/index.js';
import { MetricsHub } from './metrics-hub.js';
import { RateLimitHub } from './rate-limit-hub.js';
import { ControlHost } from './control-host.js';
import { EndpointStateHub } from './endpoint-state-hub.js';
import { healthTargets } from './health-targets.js';
import { Supervisor, workerCount } from './supervisor.js';

/** What the CLI hands the primary. */
export interface PrimaryOptions {
  readonly configFile: string;
  readonly env: Record<string, string | undefined>;
  readonly logger: Logger;
}

const CONTROL_ENTRY = new URL('../control/thread.js', import.meta.url);
const WORKER_ENTRY = new URL('../worker/main.js', import.meta.url);

/** Run the node until a signal stops it; resolves with the process exit code. */
export async function runPrimary(opts: PrimaryOptions): Promise<number> {
  const { logger } = opts;
  // Built before the control thread: its health updates may arrive as soon as it probes.
  const endpoints = new EndpointStateHub({ workers: () => supervisor?.readyWorkers ?? [], logger });
  const control = new ControlHost({
    entry: CONTROL_ENTRY,
    workerData: { configFile: opts.configFile, env: opts.env },
    logger,
    onEvent: (msg) => {
      if (msg.type === 'health-update') {
        metrics.healthTransitions.inc({ service: msg.service, to: msg.healthy ? 'healthy' : 'unhealthy' });
        endpoints.health(msg.service, msg.url, msg.healthy, msg.reason);
      }
    },
  });

  // Signals are wired before anything slow: SIGHUP's default action would kill the
  // primary, and a stop during start-up must still drain what was started.
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let reloadWanted = false;
  let stopWanted: number | null = null;
  let supervisor: Supervisor | null = null;
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => (resolveExit = r));

  const stop = async (code: number) => {
    if (phase === 'stopping') return;
    if (supervisor === null) {
      // Still loading the first config: stop as soon as that returns.
      stopWanted = code;
      return;
    }
    phase = 'stopping';
    logger.info({ exitCode: code }, 'shutting down: draining workers');
    await supervisor?.shutdown();
    await control.stop();
    await audit.close().catch(() => {});
    logger.info('stopped');
    flushLogger(logger);
    resolveExit(code);
  };

  const registry = createRegistry();
  const audit = new AuditLog({ sink: new AuditFileSink(stateFiles(process.cwd(), opts.env).auditLog), logger, registry, base: { role: 'primary' } });
  const auditReload = (result: string, extra: Record<string, unknown> = {}) =>
    audit.record('config.reload', { configVersion: version, configFile: opts.configFile, result, ...extra });
  const metrics = new ControlPlaneMetrics(registry, {
    workersUp: () => supervisor?.readyWorkers.length ?? 0,
    workerRestarts: () => supervisor?.respawns ?? 0,
    controlRestarts: () => control.restarts,
    instanceStates: () => endpoints.stateCounts(),
  });
  let version = 1;
  let reloading = false;
  // One reload at a time; SIGHUPs arriving meanwhile collapse into one more pass that
  // reads the file as it is then, so the newest config is always the one applied last.
  const reload = async () => {
    if (phase !== 'running' || reloading) {
      reloadWanted = true;
      return;
    }
    reloading = true;
    try {
      do {
        reloadWanted = false;
        await reloadOnce();
      } while (reloadWanted && phase === 'running');
    } finally {
      reloading = false;
    }
  };
  const reloadOnce = async () => {
    version++;
    logger.info({ configVersion: version, configFile: opts.configFile }, 'SIGHUP: reloading config');
    let answer: ConfigAnswer;
    try {
      answer = await loadWithRetry(control, version, 'reload', logger);
    } catch (err) {
      metrics.reloads.inc({ result: 'failed' });
      auditReload('failed', { reason: (err as Error).message });
      logger.error({ err }, 'reload failed: control plane unavailable; keeping the running config');
      return;
    }
    if (answer.type !== 'config-loaded') {
      metrics.reloads.inc({ result: 'invalid' });
      auditReload('invalid', { problems: answer.problems.length });
      logInvalid(logger, answer.problems, 'reload rejected: config is invalid; keeping the running config');
      return;
    }
    endpoints.prepare(answer.snapshot);
    const ok = await supervisor!.reload(answer.snapshot);
    metrics.reloads.inc({ result: ok ? 'applied' : 'failed' });
    // Applied or abandoned, the hub tracks exactly the config that serves now.
    endpoints.setSnapshot(ok ? answer.snapshot : supervisor!.snapshot ?? answer.snapshot);
    auditReload(ok ? 'applied' : 'failed');
    if (ok) {
      control.setHealthTargets(healthTargets(answer.snapshot));
      metrics.configVersion.set(answer.snapshot.version);
      logger.info({ configVersion: version, workers: workerCount(answer.snapshot) }, 'reload complete');
    }
  };

  process.on('SIGHUP', () => void reload());
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));

  control.start();
  let first: ConfigAnswer;
  try {
    first = await loadWithRetry(control, version, 'start', logger);
  } catch (err) {
    logger.fatal({ err }, 'control plane could not load the config; not starting');
    await control.stop();
    return 1;
  }
  if (first.type !== 'config-loaded') {
    logInvalid(logger, first.problems, 'config is invalid; not starting');
    await control.stop();
    return 1;
  }
  if (stopWanted !== null) {
    await control.stop();
    return stopWanted;
  }

  const hub = new MetricsHub({ registry, workers: () => supervisor?.readyWorkers ?? [], logger, extra: () => control.metrics() });
  const limits = new RateLimitHub();
  supervisor = new Supervisor({
    workerEntry: fileURLToPath(WORKER_ENTRY),
    logger,
    onAllStopped: (why) => {
      if (why === 'crash-loop') logger.fatal('every worker slot is crash-looping; the gateway cannot serve and exits');
      void stop(1);
    },
    onWorkerReady: (worker) => endpoints.sendAll(worker),
    onWorkerMessage: (worker, msg) => {
      if (msg.type === 'rate-limit-take-batch') limits.takeBatch(worker, msg.asks);
      else if (msg.type === 'rate-limit-take') limits.take(worker, msg.id, msg.checks);
      else if (msg.type === 'outlier-report') endpoints.report(String(msg.service), String(msg.url), msg.event === 'recover' ? 'recover' : 'eject');
      else if (msg.type === 'status-request') {
        const snap = supervisor?.snapshot;
        const doc = {
          status: 'ok',
          configVersion: snap?.version ?? 0,
          workers: { up: supervisor?.readyWorkers.length ?? 0, wanted: snap === null || snap === undefined ? 0 : workerCount(snap) },
          services: endpoints.status(),
          rateLimits: { buckets: limits.size, maxKeys: limits.maxKeys },
        };
        sendToWorker(worker, { v: PROTOCOL_VERSION, type: 'status-response', id: msg.id, doc });
      }
      else if (msg.type === 'metrics-request') void hub.request(worker, msg.id);
      else if (msg.type === 'metrics-report') hub.report(worker, msg.id, msg.metrics);
    },
    onWorkerGone: (worker) => hub.gone(worker),
  });
  const snapshot: ConfigSnapshot = first.snapshot;
  endpoints.setSnapshot(snapshot);
  control.setHealthTargets(healthTargets(snapshot));
  metrics.configVersion.set(snapshot.version);
  const wanted = workerCount(snapshot);
  const up = await supervisor.start(snapshot);
  logger.info(
    { host: snapshot.server.host, port: snapshot.server.port, httpPort: snapshot.server.tls?.httpPort ?? undefined, tls: snapshot.server.tls != null, workers: up, workersWanted: wanted, configFile: opts.configFile },
    up > 0 ? 'gateway started' : 'gateway started but no worker is listening yet',
  );
  // A stop during start-up drains what started (the supervisor queues drains for
  // workers that cannot hear yet) instead of waiting for start-up to finish.
  if (phase === 'starting') {
    phase = 'running';
    if (reloadWanted) void reload();
  }
  return exited;
}

/** Ask the control thread for config, retrying while it restarts after a crash. */
async function loadWithRetry(control: ControlHost, version: number, reason: 'start' | 'reload', logger: Logger): Promise<ConfigAnswer> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await control.loadConfig(version, reason);
    } catch (err) {
      lastErr = err;
      logger.warn({ err: (err as Error).message, attempt }, 'config load did not complete; retrying');
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
  throw lastErr;
}

function logInvalid(logger: Logger, problems: readonly { file: string; path: string; message: string; line?: number }[], msg: string): void {
  for (const p of problems) logger.error({ problem: p }, formatProblem(p));
  logger.error({ problems: problems.length }, msg);
}
