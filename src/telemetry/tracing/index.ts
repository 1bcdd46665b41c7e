/** Public surface of tracing: the per-process request tracer and header propagation. */
export { RequestTracer, createRequestTracer, createSampler, requestTraceOf, type TracerDeps } from './request-tracer.js';
export { RequestTrace, UpstreamTry, type TryStart } from './request-trace.js';
export { extractParent, parseTraceparent, parseTracestate, parseUberTraceId, formatTraceparent } from './trace-context.js';
export { TracingMetrics, type DropReason } from './tracing-metrics.js';
