/**
 * Prometheus metrics (prom-client). Every process builds its own Registry in its
 * composition root (never prom-client's global one); the primary merges the workers'
 * registries into one node-wide view on each scrape (see primary/metrics-hub.ts).
 *
 * Label sets are bounded by construction: route ids and service names come from config,
 * methods are folded onto a fixed list, statuses onto their class. Raw paths, client
 * addresses and user ids never become labels.
 */
import { HotCounter, HotHistogram } from './hot-metrics.js';
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** One process's metrics as JSON, the shape that crosses IPC. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
// Latency buckets in seconds, from sub-millisecond proxying to long uploads.
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A registry for one process, with Node's process metrics (memory, CPU, event-loop lag). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return registry;
}

/** `GET` stays `GET`; anything outside the common methods is `OTHER`. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : 'OTHER';
}

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** 200 → `2xx`; 499 (client closed) stays its own class. */
export function statusClass(status: number): string {
  return status === 499 ? '499' : (CLASSES[Math.floor(status / 100) - 1] ?? `${Math.floor(status / 100)}xx`);
}

/** Per-request metrics of a worker (hot path: see hot-metrics.ts). */
export class DataPlaneMetrics {
  /** Labels: route, method, status_class. */
  readonly requests: HotCounter;
  /** Labels: route. */
  readonly duration: HotHistogram;
  /** Requests being handled; a plain number on the hot path, read at scrape time. */
  inFlight = 0;
  /** Labels: service, outcome. */
  readonly upstreamTries: HotCounter;
  /** Labels: service. */
  readonly upstreamDuration: HotHistogram;
  /** Labels: route, decision (allowed | limited | fail_open). */
  readonly rateLimitDecisions: HotCounter;
  /** Refusals the worker answered itself (no labels): see worker/policies/refusal-cache.ts. */
  readonly rateLimitLocalRefusals: HotCounter;
  /** Labels: service, result (retried | budget | limit). */
  readonly retries: HotCounter;
  /** Labels: service, event (eject | recover). */
  readonly outlierEvents: HotCounter;

  constructor(registry: Registry) {
    this.requests = new HotCounter(
      'gateway_requests_total',
      'Requests answered, by route id, method and status class.',
      ['route', 'method', 'status_class'],
      registry,
    );
    this.duration = new HotHistogram(
      'gateway_request_duration_seconds',
      'Time from request start to the end of the response, by route id.',
      ['route'],
      BUCKETS,
      registry,
    );
    const self = this;
    new Gauge({
      name: 'gateway_requests_in_flight',
      help: 'Requests being handled.',
      registers: [registry],
      collect() {
        this.set(self.inFlight);
      },
    });
    this.upstreamTries = new HotCounter(
      'gateway_upstream_tries_total',
      'Requests sent to upstream instances, by service and outcome (status class or error code).',
      ['service', 'outcome'],
      registry,
    );
    this.upstreamDuration = new HotHistogram(
      'gateway_upstream_try_duration_seconds',
      'Duration of one upstream try, from dispatch to the end of the response, by service.',
      ['service'],
      BUCKETS,
      registry,
    );
    this.rateLimitDecisions = new HotCounter(
      'gateway_rate_limit_decisions_total',
      'Rate-limit decisions on limited routes: allowed, limited (429), or fail_open (primary did not answer).',
      ['route', 'decision'],
      registry,
    );
    this.rateLimitLocalRefusals = new HotCounter(
      'gateway_rate_limit_local_refusals_total',
      'Of the limited decisions, those a worker answered from a refusal the primary gave earlier (the same check set before its refill time), without asking again.',
      [],
      registry,
    );
    this.retries = new HotCounter(
      'gateway_upstream_retries_total',
      'Retries considered after a failed try: retried, or refused by the retry budget (budget) or by limits.maxRetries (limit).',
      ['service', 'result'],
      registry,
    );
    this.outlierEvents = new HotCounter(
      'gateway_outlier_events_total',
      'Breaker events decided by this worker: eject (instance ejected) and recover (half-open probe succeeded).',
      ['service', 'event'],
      registry,
    );
  }
}

/** Node-level metrics the primary owns. */
export class ControlPlaneMetrics {
  readonly reloads: Counter<'result'>;
  readonly configVersion: Gauge;
  readonly workerRestarts: Counter;
  readonly workersUp: Gauge;
  readonly healthTransitions: Counter<'service' | 'to'>;

  /** `read` gives the supervisor's live numbers; they are read at scrape time. */
  constructor(
    registry: Registry,
    read: {
      workersUp(): number;
      workerRestarts(): number;
      controlRestarts?(): number;
      /** Instances per service and breaker/health state, node-wide. */
      instanceStates?(): { service: string; state: string; count: number }[];
    },
  ) {
    const registers = [registry];
    new Gauge({
      name: 'gateway_upstream_instances',
      help: 'Upstream instances per service by node-wide state: available, ejected (breaker open), half_open, unhealthy (active checks).',
      labelNames: ['service', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { service, state, count } of read.instanceStates?.() ?? []) this.set({ service, state }, count);
      },
    });
    let restartsSeen = 0;
    let controlSeen = 0;
    new Counter({
      name: 'gateway_control_thread_restarts_total',
      help: 'Control threads restarted after dying (workers keep serving meanwhile).',
      registers,
      collect() {
        const now = read.controlRestarts?.() ?? 0;
        if (now > controlSeen) this.inc(now - controlSeen);
        controlSeen = now;
      },
    });
    this.reloads = new Counter({
      name: 'gateway_config_reloads_total',
      help: 'Config reloads (SIGHUP) by result: applied, invalid, failed.',
      labelNames: ['result'],
      registers,
    });
    this.healthTransitions = new Counter({
      name: 'gateway_health_check_transitions_total',
      help: 'Active health-check verdict changes of upstream instances, by service and new state (healthy | unhealthy).',
      labelNames: ['service', 'to'],
      registers,
    });
    this.configVersion = new Gauge({ name: 'gateway_config_version', help: 'Version of the config being served.', registers });
    this.workerRestarts = new Counter({
      name: 'gateway_worker_restarts_total',
      help: 'Workers respawned after dying unexpectedly.',
      registers,
      collect() {
        const now = read.workerRestarts();
        if (now > restartsSeen) this.inc(now - restartsSeen);
        restartsSeen = now;
      },
    });
    this.workersUp = new Gauge({
      name: 'gateway_workers_up',
      help: 'Worker processes listening.',
      registers,
      collect() {
        this.set(read.workersUp());
      },
    });
  }
}

/** Merge several processes' metrics (counters and histograms summed) into one text page. */
export async function aggregateMetrics(parts: readonly MetricsJson[]): Promise<{ text: string; contentType: string }> {
  const merged = AggregatorRegistry.aggregate(parts as MetricsJson[]);
  return { text: await merged.metrics(), contentType: merged.contentType };
}
