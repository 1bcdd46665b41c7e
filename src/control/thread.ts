/**
 * Entry of the control-plane worker_thread of the primary. It loads and validates config
 * on request and runs the active health checks; discovery, Redis and MySQL join it later.
 * Anything slow or crashy lives here so the primary's supervision and IPC never wait on it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PROTOCOL_VERSION, isProtocolMessage, type FromControl, type ToControl } from '../ipc/index.js';
import { loadConfig } from './config/index.js';
import { HealthProber } from './health/index.js';
import { ControlThreadMetrics } from '../telemetry/index.js';

/** What the primary passes in `workerData`. */
export interface ControlThreadData {
  readonly configFile: string;
  readonly env: Record<string, string | undefined>;
}

const data = workerData as ControlThreadData;
const port = parentPort;
if (port === null) throw new Error('control/thread.js must run as a worker thread');

const metrics = new ControlThreadMetrics();
const prober = new HealthProber(
  (c) => {
    const msg: FromControl = { v: PROTOCOL_VERSION, type: 'health-update', service: c.service, url: c.url, healthy: c.healthy, reason: c.reason };
    port.postMessage(msg);
  },
  (service, ok, seconds) => {
    metrics.healthChecks.inc({ service, result: ok ? 'success' : 'failure' });
    metrics.healthCheckDuration.observe({ service }, seconds);
  },
);

port.on('message', (m: unknown) => {
  if (!isProtocolMessage(m)) return;
  const msg = m as ToControl;
  if (msg.type === 'health-targets') {
    prober.setTargets(msg.targets);
    return;
  }
  if (msg.type === 'metrics-collect') {
    const id = msg.id;
    metrics.registry.getMetricsAsJSON().then(
      (json) => port.postMessage({ v: PROTOCOL_VERSION, type: 'control-metrics', id, metrics: json } satisfies FromControl),
      () => port.postMessage({ v: PROTOCOL_VERSION, type: 'control-metrics', id, metrics: [] } satisfies FromControl),
    );
    return;
  }
  if (msg.type !== 'load-config') return;
  const started = performance.now();
  void loadConfig(data.configFile, { env: data.env, version: msg.version }).then((result) => {
    metrics.configLoads.inc({ result: result.ok ? 'valid' : 'invalid' });
    if (result.ok) metrics.certificates(result.snapshot.server.tls?.certificates ?? []);
    metrics.configLoadDuration.observe((performance.now() - started) / 1000);
    const reply: FromControl = result.ok
      ? { v: PROTOCOL_VERSION, type: 'config-loaded', snapshot: result.snapshot }
      : { v: PROTOCOL_VERSION, type: 'config-invalid', version: msg.version, problems: result.problems };
    port.postMessage(reply);
  });
});
