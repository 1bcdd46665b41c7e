/** Public surface of telemetry: logging, metrics and tracing. */
export { createLogger, flushLogger, LOG_LEVELS, type Logger, type LoggerOptions } from './logger.js';
export {
  createRegistry,
  methodLabel,
  statusClass,
  aggregateMetrics,
  DataPlaneMetrics,
  ControlPlaneMetrics,
  type MetricsJson,
} from './metrics.js';
export { ConnectionMetrics, type ConnectionRejectReason } from './connection-metrics.js';
export { AuditLog, type AuditSink, type AuditLogOptions } from './audit-log.js';
export { AuditFileSink } from './audit-file-sink.js';
export { HotCounter, HotHistogram } from './hot-metrics.js';
export {
  createRequestTracer,
  requestTraceOf,
  RequestTracer,
  RequestTrace,
  UpstreamTry,
  type TracerDeps,
  type TryStart,
} from './tracing/index.js';
export { ControlThreadMetrics } from './control-thread-metrics.js';
