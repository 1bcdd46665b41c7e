/**
 * Metrics of the control thread (config loads, active health checks, its event loop).
 * The thread has its own registry; the primary collects it with every /metrics scrape
 * and sums it into the node page like a worker's. No default process metrics here: the
 * thread shares the primary's process, whose registry already reports CPU and memory.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The control thread's registry and the series it records. */
export class ControlThreadMetrics {
  readonly registry = new Registry();
  readonly configLoads: Counter<'result'>;
  readonly configLoadDuration: Histogram;
  readonly healthChecks: Counter<'service' | 'result'>;
  readonly healthCheckDuration: Histogram<'service'>;
  readonly #certificateNotAfter: Gauge<'file' | 'names'>;

  constructor() {
    const registers = [this.registry];
    this.configLoads = new Counter({
      name: 'gateway_control_config_loads_total',
      help: 'Config loads by the control thread (start and SIGHUP), by result: valid or invalid.',
      labelNames: ['result'],
      registers,
    });
    this.configLoadDuration = new Histogram({
      name: 'gateway_control_config_load_duration_seconds',
      help: 'Time to read, interpolate and validate the config (including key files).',
      buckets: BUCKETS,
      registers,
    });
    this.healthChecks = new Counter({
      name: 'gateway_health_checks_total',
      help: 'Active health-check probes, by service and result (success | failure).',
      labelNames: ['service', 'result'],
      registers,
    });
    this.healthCheckDuration = new Histogram({
      name: 'gateway_health_check_duration_seconds',
      help: 'Duration of one active health-check probe, by service.',
      labelNames: ['service'],
      buckets: BUCKETS,
      registers,
    });
    this.#certificateNotAfter = new Gauge({
      name: 'gateway_tls_certificate_not_after_seconds',
      help: 'Expiry (Unix time) of each server.tls certificate of the last config that passed validation, by file and DNS names: alert on it before clients see an expired certificate.',
      labelNames: ['file', 'names'],
      registers,
    });
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    new Gauge({
      name: 'gateway_control_event_loop_lag_p99_seconds',
      help: 'p99 event-loop delay of the control thread since the previous scrape (slow config or probe code shows here).',
      registers,
      collect() {
        this.set(Number.isFinite(lag.percentile(99)) ? lag.percentile(99) / 1e9 : 0);
        lag.reset();
      },
    });
  }

  /** The certificates of a config that passed validation (replacing the previous ones). */
  certificates(list: readonly { readonly certFile: string; readonly names: readonly string[]; readonly notAfter: string }[]): void {
    this.#certificateNotAfter.reset();
    for (const c of list) this.#certificateNotAfter.set({ file: c.certFile, names: c.names.join(',') }, Date.parse(c.notAfter) / 1000);
  }
}
