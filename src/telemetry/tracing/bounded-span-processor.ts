/**
 * The batch span processor, with its queue bound made visible. OpenTelemetry's
 * BatchSpanProcessor already batches off the request path (spans are queued on end and
 * sent on a timer or when a batch is full) and drops spans when its queue is full, but
 * it only reports that through the diag logger. This wrapper keeps its own count of
 * spans between "ended" and "export settled" with the same bound, so every span it lets
 * through fits in the inner queue and every span it refuses is counted as `queue_full`.
 */
import type { Context } from '@opentelemetry/api';
import { TraceFlags } from '@opentelemetry/api';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GuardedExporter, type GuardOptions } from './guarded-exporter.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Queue and batch settings (see `TracingConfig`). */
export interface BatchSettings {
  readonly queueSize: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly exportTimeoutMs: number;
}

/** A BatchSpanProcessor behind a counted bound, exporting through a `GuardedExporter`. */
export class BoundedSpanProcessor implements SpanProcessor {
  readonly #inner: BatchSpanProcessor;
  readonly #limit: number;
  readonly #guard: Omit<GuardOptions, 'timeoutMs' | 'settled'>;
  #pending = 0;

  /** `exporter` makes the real exporter (again after a hung export, see GuardedExporter). */
  constructor(exporter: () => SpanExporter, settings: BatchSettings, guard: Omit<GuardOptions, 'timeoutMs' | 'settled'>) {
    this.#limit = settings.queueSize;
    this.#guard = guard;
    const guarded = new GuardedExporter(exporter, {
      ...guard,
      timeoutMs: settings.exportTimeoutMs,
      settled: (n) => (this.#pending = Math.max(0, this.#pending - n)),
    });
    this.#inner = new BatchSpanProcessor(guarded, {
      maxQueueSize: settings.queueSize,
      maxExportBatchSize: Math.min(settings.batchSize, settings.queueSize),
      scheduledDelayMillis: settings.flushIntervalMs,
      // The guard's own deadline fires first and accounts for the spans.
      exportTimeoutMillis: settings.exportTimeoutMs + 1_000,
    });
  }

  /** Spans ended but not yet exported or dropped. */
  get pending(): number {
    return this.#pending;
  }

  onStart(span: Span, parentContext: Context): void {
    this.#inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#pending >= this.#limit) {
      this.#guard.metrics.dropped.inc({ reason: 'queue_full' });
      return;
    }
    this.#pending++;
    this.#inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush().catch(() => undefined);
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown().catch(() => undefined);
  }
}
