/**
 * Tracing settings as they cross from the control plane to the workers (part of the
 * config snapshot). Each worker builds its own tracer from them when it starts; a reload
 * replaces workers, so a changed tracing section takes effect with the new workers.
 */

/** Span exporters the gateway can use (OTLP arrives when its exporter is a dependency). */
export type TraceExporterKind = 'jaeger';

/** `telemetry.tracing` of the config, defaults filled in. */
export interface TracingConfig {
  /** Off: no tracer, no span, trace headers forwarded untouched (as without tracing). */
  readonly enabled: boolean;
  /** `service.name` of the gateway's spans in Jaeger. */
  readonly serviceName: string;
  /** Share of new traces (requests without a sampled parent) that are recorded, 0..1. */
  readonly sampleRatio: number;
  readonly exporter: TraceExporterKind;
  /** Jaeger collector endpoint (thrift over HTTP), e.g. `http://127.0.0.1:14268/api/traces`. */
  readonly endpoint: string;
  /** Response header carrying the trace id, or null for none. */
  readonly responseHeader: string | null;
  /** Finished spans waiting for export at most; more are dropped (and counted). */
  readonly queueSize: number;
  /** Spans per export request. */
  readonly batchSize: number;
  /** Longest a finished span waits before its batch is sent. */
  readonly flushIntervalMs: number;
  /** An export that has not finished by then counts as failed; its spans are dropped. */
  readonly exportTimeoutMs: number;
}

/** Everything under `telemetry` in the config. */
export interface TelemetryConfig {
  readonly tracing: TracingConfig;
}
