/**
 * Messages between the planes. This file and snapshot.ts are the only contract between
 * primary, control thread and workers; bump PROTOCOL_VERSION on incompatible changes so
 * a rolling upgrade never feeds a worker a message shape it does not understand.
 */
import type { ConfigSnapshot } from './snapshot.js';
import type { HealthCheckConfig } from './resilience-config.js';
import type { ConfigProblem } from '../common/errors.js';

/** Version stamped on every message; receivers drop messages with another version. */
export const PROTOCOL_VERSION = 1;

/**
 * Exit status of a worker that could not listen (address in use, not permitted): a
 * problem of the host or the config, not of the worker, so respawning cannot help
 * (sysexits' EX_CONFIG).
 */
export const EXIT_CANNOT_LISTEN = 78;

/**
 * What this primary understands beyond the base protocol, announced in its snapshot
 * message. Workers use a feature only when the primary announced it, so a worker forked
 * from newer code (upgrade, then SIGHUP) still talks to an older primary.
 */
export const PRIMARY_FEATURES = ['rate-limit-batch'] as const;
/** The feature: workers may send `rate-limit-take-batch`. */
export const RATE_LIMIT_BATCH_FEATURE: (typeof PRIMARY_FEATURES)[number] = 'rate-limit-batch';

/** Primary → worker: serve this config (workers start listening on the first one). */
export interface SnapshotMessage { v: 1; type: 'snapshot'; snapshot: ConfigSnapshot; features?: readonly string[] }
/** Primary → worker: node-level state the worker reports on /ready. */
export interface StatusMessage { v: 1; type: 'status'; workersUp: number; workersWanted: number; configVersion: number }
/** Primary → worker: stop accepting, finish in-flight requests within timeoutMs, then exit. */
export interface DrainMessage { v: 1; type: 'drain'; timeoutMs: number }
/**
 * Worker → primary: the worker's message listener is attached; send the snapshot now.
 * (IPC messages that arrive before an ES module worker attaches its listener are lost.)
 */
export interface WorkerStartedMessage { v: 1; type: 'worker-started'; pid: number }
/** Worker → primary: the worker's server is listening with the given config version. */
export interface WorkerReadyMessage { v: 1; type: 'worker-ready'; configVersion: number; pid: number }
/** Worker → primary: a snapshot could not be applied (the worker keeps its old one). */
export interface WorkerRejectedMessage { v: 1; type: 'worker-rejected'; configVersion: number; reason: string }

/** Worker → primary: a client scraped /metrics; collect the node-wide view for request `id`. */
export interface MetricsRequestMessage { v: 1; type: 'metrics-request'; id: number }
/** Primary → worker: send your registry as JSON for collection `id`. */
export interface MetricsCollectMessage { v: 1; type: 'metrics-collect'; id: number }
/** Worker → primary: this worker's metrics (prom-client JSON) for collection `id`. */
export interface MetricsReportMessage { v: 1; type: 'metrics-report'; id: number; metrics: unknown[] }
/** Primary → worker: the aggregated exposition text for request `id`, or why there is none. */
export interface MetricsResponseMessage {
  v: 1;
  type: 'metrics-response';
  id: number;
  text: string | null;
  contentType: string;
  /** Workers that did not report in time (their series are missing from `text`). */
  missing: number;
  error: string | null;
}

/** One limit to charge: the limit as configured and the bucket key (route, limit, client). */
export interface RateLimitCheck { limit: { requests: number; per: 's' | 'm' | 'h' | 'd' | number; burst?: number }; key: string }
/** The primary's answer for one check. `retryAfterMs` is -1 when the request can never pass. */
export interface RateLimitVerdict { allowed: boolean; remaining: number; retryAfterMs: number; resetMs: number }
/** Worker → primary: charge one token from each check's bucket (node-wide buckets live in the primary). */
export interface RateLimitTakeMessage { v: 1; type: 'rate-limit-take'; id: number; checks: RateLimitCheck[] }
/** Primary → worker: verdicts for request `id`, in check order. */
export interface RateLimitVerdictMessage { v: 1; type: 'rate-limit-verdict'; id: number; verdicts: RateLimitVerdict[] }
/** Most asks in one rate-limit batch: a worker splits a larger turn into several messages. */
export const RATE_LIMIT_MAX_BATCH = 1024;
/** Worker → primary: several takes at once, decided in order (feature `rate-limit-batch`). */
export interface RateLimitTakeBatchMessage { v: 1; type: 'rate-limit-take-batch'; asks: { id: number; checks: RateLimitCheck[] }[] }
/** Primary → worker: the verdicts of one batch, in its order. */
export interface RateLimitVerdictBatchMessage { v: 1; type: 'rate-limit-verdict-batch'; answers: { id: number; verdicts: RateLimitVerdict[] }[] }

/** Node-wide state of one upstream instance: breaker (ejection) and active health. */
export interface EndpointState {
  service: string;
  /** Instance URL as in the snapshot: the instance's identity across workers. */
  url: string;
  /** Epoch ms until which the instance is ejected; 0 when it is not (past: half-open). */
  ejectedUntil: number;
  /** Times ejected recently (grows the next ejection). */
  ejections: number;
  /** Active health-check verdict (true when checks are off or have not failed). */
  healthy: boolean;
}
/** Worker → primary: this worker's breaker ejected (or a probe recovered) an instance. */
export interface OutlierReportMessage { v: 1; type: 'outlier-report'; service: string; url: string; event: 'eject' | 'recover' }
/** Primary → workers: authoritative state of these instances (changed ones, or all for a new worker). */
export interface EndpointStatesMessage {
  v: 1;
  type: 'endpoint-states';
  states: EndpointState[];
  /** True: `states` lists every instance of the config; replace, do not merge. */
  full: boolean;
}
/** Worker → primary: a client asked for the node status document (request `id`). */
export interface StatusRequestMessage { v: 1; type: 'status-request'; id: number }
/** Primary → worker: the node status document for request `id`. */
export interface StatusResponseMessage { v: 1; type: 'status-response'; id: number; doc: unknown }

/** Messages the primary sends to workers. */
export type ToWorker =
  | EndpointStatesMessage
  | StatusResponseMessage
  | SnapshotMessage
  | StatusMessage
  | DrainMessage
  | MetricsCollectMessage
  | MetricsResponseMessage
  | RateLimitVerdictMessage
  | RateLimitVerdictBatchMessage;
/** Messages workers send to the primary. */
export type FromWorker =
  | OutlierReportMessage
  | StatusRequestMessage
  | WorkerStartedMessage
  | WorkerReadyMessage
  | WorkerRejectedMessage
  | MetricsRequestMessage
  | MetricsReportMessage
  | RateLimitTakeMessage
  | RateLimitTakeBatchMessage;

/** Primary → control thread: (re)load config as `version`; `reason` is logged. */
export interface LoadConfigMessage { v: 1; type: 'load-config'; reason: 'start' | 'reload'; version: number }
/** Control thread → primary: config is valid. */
export interface ConfigLoadedMessage { v: 1; type: 'config-loaded'; snapshot: ConfigSnapshot }
/** Control thread → primary: config is invalid; nothing changes. */
export interface ConfigInvalidMessage { v: 1; type: 'config-invalid'; version: number; problems: ConfigProblem[] }

/** One service's active health check, as the control thread needs it. */
export interface HealthTarget { service: string; urls: string[]; check: HealthCheckConfig }
/** Primary → control thread: probe these (replaces the previous set; sent after each applied config). */
export interface HealthTargetsMessage { v: 1; type: 'health-targets'; targets: HealthTarget[] }
/** Control thread → primary: an instance changed health (after its threshold of probes). */
export interface HealthUpdateMessage { v: 1; type: 'health-update'; service: string; url: string; healthy: boolean; reason: string }

/** Primary → control thread: send your metrics registry for scrape `id`. */
export interface ControlMetricsCollectMessage { v: 1; type: 'metrics-collect'; id: number }
/** Control thread → primary: its registry (prom-client JSON) for scrape `id`. */
export interface ControlMetricsMessage { v: 1; type: 'control-metrics'; id: number; metrics: unknown[] }

/** The control thread's answer to a load-config. */
export type ConfigAnswer = ConfigLoadedMessage | ConfigInvalidMessage;

/** Messages the primary sends to the control thread. */
export type ToControl = LoadConfigMessage | HealthTargetsMessage | ControlMetricsCollectMessage;
/** Messages the control thread sends to the primary. */
export type FromControl = ConfigLoadedMessage | ConfigInvalidMessage | HealthUpdateMessage | ControlMetricsMessage;

/** True when `m` is a message of this protocol version (anything else is ignored). */
export function isProtocolMessage(m: unknown): m is { v: number; type: string } {
  return typeof m === 'object' && m !== null && (m as { v?: unknown }).v === PROTOCOL_VERSION &&
    typeof (m as { type?: unknown }).type === 'string';
}
