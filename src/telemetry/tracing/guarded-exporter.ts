/**
 * Wraps the real span exporter so that its failures cost nothing but the spans:
 *   - every export gets a deadline of its own; a collector that accepts the connection
 *     and never answers would otherwise hold the batch (the Jaeger HTTP sender sets a
 *     socket timeout but never aborts on it). A late export also replaces the exporter:
 *     shutting the old one down destroys its HTTP agent and with it the hung sockets,
 *     which would otherwise pile up at one per export while the collector hangs;
 *   - a failed or late export drops its spans and counts them (never retried: a retry
 *     queue would be unbounded memory while the collector is down);
 *   - failures are logged at most once per `logEveryMs`, with how many happened since.
 * The wrapped exporter's callback is honoured once, whichever comes first.
 */
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../logger.js';
import type { TracingMetrics } from './tracing-metrics.js';

/** Options of `GuardedExporter`. */
export interface GuardOptions {
  readonly timeoutMs: number;
  readonly metrics: TracingMetrics;
  readonly logger: Logger;
  /** Where spans go, for the log line. */
  readonly endpoint: string;
  /** Minimum time between two failure log lines (default 60 s). */
  readonly logEveryMs?: number;
  /** Called with the number of spans once an export settled (either way). */
  readonly settled?: (spans: number) => void;
}

/** A span exporter that never throws, times out on its own, and counts what it loses. */
export class GuardedExporter implements SpanExporter {
  readonly #create: () => SpanExporter;
  #inner: SpanExporter;
  readonly #opts: GuardOptions;
  #lastLog = -Infinity;
  #unlogged = 0;

  /** `create` makes the real exporter, now and again after an export timed out. */
  constructor(create: () => SpanExporter, opts: GuardOptions) {
    this.#create = create;
    this.#inner = create();
    this.#opts = opts;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let done = false;
    const finish = (result: ExportResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const m = this.#opts.metrics;
      if (result.code === ExportResultCode.SUCCESS) m.exported.inc(spans.length);
      else this.#failed(spans.length, result.error);
      this.#opts.settled?.(spans.length);
      resultCallback(result);
    };
    const timer = setTimeout(() => {
      const hung = this.#inner;
      this.#inner = this.#create();
      if (hung !== this.#inner) void hung.shutdown().catch(() => undefined);
      finish({ code: ExportResultCode.FAILED, error: new Error(`no answer within ${this.#opts.timeoutMs} ms`) });
    }, this.#opts.timeoutMs);
    timer.unref();
    try {
      this.#inner.export(spans, finish);
    } catch (err) {
      finish({ code: ExportResultCode.FAILED, error: err as Error });
    }
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown().catch(() => undefined);
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.().catch(() => undefined) ?? Promise.resolve();
  }

  #failed(spans: number, error: Error | undefined): void {
    const m = this.#opts.metrics;
    m.exportFailures.inc();
    m.dropped.inc({ reason: 'export_failed' }, spans);
    this.#unlogged++;
    const now = performance.now();
    if (now - this.#lastLog < (this.#opts.logEveryMs ?? 60_000)) return;
    this.#lastLog = now;
    this.#opts.logger.warn(
      { endpoint: this.#opts.endpoint, failures: this.#unlogged, err: error?.message ?? 'export failed' },
      'trace export failed; spans dropped (logged at most once a minute)',
    );
    this.#unlogged = 0;
  }
}
