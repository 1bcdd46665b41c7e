/**
 * Self-metrics of the span pipeline, in the worker's own registry (summed node-wide by
 * the primary like every worker metric). They are how an operator sees that traces are
 * being lost, because the pipeline itself never fails a request nor logs per span.
 */
import { Counter, type Registry } from 'prom-client';

/** Why a finished, sampled span never reached the collector. */
export type DropReason = 'queue_full' | 'export_failed';

/** Counters of exported and dropped spans and of failed export requests. */
export class TracingMetrics {
  readonly exported: Counter;
  readonly dropped: Counter<'reason'>;
  readonly exportFailures: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.exported = new Counter({
      name: 'gateway_trace_spans_exported_total',
      help: 'Sampled spans the trace collector accepted.',
      registers,
    });
    this.dropped = new Counter({
      name: 'gateway_trace_spans_dropped_total',
      help: 'Sampled spans lost: queue_full (export backlog at telemetry.tracing.queueSize) or export_failed (collector error, unreachable or too slow).',
      labelNames: ['reason'],
      registers,
    });
    // Both label values exist from the start, so a dashboard sees 0 rather than no series.
    this.dropped.inc({ reason: 'queue_full' }, 0);
    this.dropped.inc({ reason: 'export_failed' }, 0);
    this.exportFailures = new Counter({
      name: 'gateway_trace_export_failures_total',
      help: 'Export requests to the trace collector that failed or timed out.',
      registers,
    });
  }
}
