/**
 * The spans of one proxied request: a SERVER span for the request as the client sees it
 * and one CLIENT span per upstream try, each a child of the server span. Retries are
 * just more tries: call `startTry` again and each try gets its own span, its own
 * `traceparent` for the upstream and `http.request.resend_count` = its index.
 *
 * Attribute names are OpenTelemetry's HTTP semantic conventions; gateway-specific ones
 * use the `gateway.` prefix. An unsampled request still has a trace id and span ids
 * (they are propagated so upstream logs correlate), but its spans record nothing, so
 * building attributes is skipped for them.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { formatTraceparent } from './trace-context.js';

/** What is known about an upstream try when it starts. */
export interface TryStart {
  readonly method: string;
  /** `host:port` of the instance. */
  readonly authority: string;
  /** Upstream request target; only its path is recorded (a query may carry secrets). */
  readonly target: string;
  readonly service: string;
}

/** One upstream try: its span and the trace headers to send with it. */
export class UpstreamTry {
  readonly #span: Span;
  #ended = false;

  constructor(span: Span) {
    this.#span = span;
  }

  /** The try's `traceparent` value. */
  get traceparent(): string {
    return formatTraceparent(this.#span.spanContext());
  }

  /**
   * `headers` (flat `[name, value, ...]` upstream request headers) with the caller's
   * trace headers replaced by this try's context. Returns a new array, so one set of
   * base headers serves every retry.
   */
  withHeaders(headers: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      // Only the three trace headers have these lengths and first letters: skip the
      // lower-casing for every other header.
      const n = name.length;
      if ((n === 11 || n === 10 || n === 13) && isTraceHeader(name.toLowerCase())) continue;
      out.push(name, headers[i + 1]!);
    }
    const ctx = this.#span.spanContext();
    out.push('traceparent', formatTraceparent(ctx));
    const state = ctx.traceState?.serialize();
    if (state !== undefined && state !== '') out.push('tracestate', state);
    return out;
  }

  /**
   * End the try: `status` is what reached the client from this try, `errorCode` is set
   * when the gateway produced it (timeout, refused, client gone).
   */
  end(status: number, errorCode: string | null): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (span.isRecording()) {
      if (errorCode === null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (errorCode !== null || status >= 400) {
        span.setAttribute(ATTR_ERROR_TYPE, errorCode ?? String(status));
        span.setStatus({ code: SpanStatusCode.ERROR, ...(errorCode === null ? {} : { message: errorCode }) });
      }
    }
    span.end();
  }
}

function isTraceHeader(lower: string): boolean {
  return lower === 'traceparent' || lower === 'tracestate' || lower === 'uber-trace-id';
}

/** The server span of one request and the factory of its try spans. */
export class RequestTrace {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  readonly #tracer: Tracer;
  readonly #ids: IdGenerator;
  readonly #span: Span;
  readonly #method: string;
  #context: Context | null = null;
  #tries = 0;
  #ended = false;

  constructor(tracer: Tracer, ids: IdGenerator, span: Span, method: string) {
    this.#tracer = tracer;
    this.#ids = ids;
    this.#span = span;
    this.#method = method;
    this.traceId = span.spanContext().traceId;
  }

  /** Start the span of the next upstream try (first try, then each retry). */
  startTry(t: TryStart): UpstreamTry {
    const resend = this.#tries++;
    if (!this.#span.isRecording()) {
      // The child of an unsampled span is never sampled (parent-based sampling), so skip
      // the SDK: a non-recording span with a fresh id is all the upstream needs to see.
      const parent = this.#span.spanContext();
      return new UpstreamTry(
        trace.wrapSpanContext({
          traceId: parent.traceId,
          spanId: this.#ids.generateSpanId(),
          traceFlags: TraceFlags.NONE,
          ...(parent.traceState === undefined ? null : { traceState: parent.traceState }),
        }),
      );
    }
    this.#context ??= trace.setSpan(ROOT_CONTEXT, this.#span);
    const colon = t.authority.lastIndexOf(':');
    const q = t.target.indexOf('?');
    const span = this.#tracer.startSpan(
      t.method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: t.method,
          [ATTR_SERVER_ADDRESS]: colon === -1 ? t.authority : t.authority.slice(0, colon),
          ...(colon === -1 ? null : { [ATTR_SERVER_PORT]: Number(t.authority.slice(colon + 1)) }),
          [ATTR_URL_PATH]: q === -1 ? t.target : t.target.slice(0, q),
          'gateway.service': t.service,
          ...(resend === 0 ? null : { [ATTR_HTTP_REQUEST_RESEND_COUNT]: resend }),
        },
      },
      this.#context,
    );
    return new UpstreamTry(span);
  }

  /** End the server span with the response status; `route` is the matched route id. */
  end(status: number, errorCode: string | null, route: string | null): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (span.isRecording()) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (route !== null) {
        span.setAttribute('gateway.route.id', route);
        span.updateName(`${this.#method} ${route}`);
      }
      if (errorCode !== null) span.setAttribute('gateway.error.code', errorCode);
      // Server spans: only 5xx are errors (a 4xx is the client's mistake, not ours).
      if (status >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, errorCode ?? String(status));
        span.setStatus({ code: SpanStatusCode.ERROR, ...(errorCode === null ? {} : { message: errorCode }) });
      }
    }
    span.end();
  }
}
