/**
 * The per-process tracer, built in the worker's composition root from the snapshot's
 * `telemetry.tracing` and passed to the request handler. Nothing is registered with the
 * OpenTelemetry API globals: the provider is private to this object, the parent context
 * is built explicitly from the request headers, and spans are handed down explicitly.
 *
 * Sampling is parent-based: a request whose caller sent a sampled context is recorded,
 * one whose caller sent an unsampled context is not, and a new trace is recorded with
 * probability `sampleRatio` (decided on the trace id, so every span of it agrees).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { JaegerExporter } from '@opentelemetry/exporter-jaeger';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  ParentBasedSampler,
  RandomIdGenerator,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { Registry } from 'prom-client';
import type { TracingConfig } from '../../ipc/index.js';
import type { Logger } from '../logger.js';
import { BoundedSpanProcessor } from './bounded-span-processor.js';
import { RequestTrace } from './request-trace.js';
import { extractParent } from './trace-context.js';
import { TracingMetrics } from './tracing-metrics.js';

const TRACE = Symbol('gateway.trace');
type Traced = IncomingMessage & { [TRACE]?: RequestTrace };

/** The trace of a request started by `RequestTracer#start`, if tracing is on. */
export function requestTraceOf(req: IncomingMessage): RequestTrace | undefined {
  return (req as Traced)[TRACE];
}

/** `server.address` / `server.port` from a Host header (`[v6]:port`, `name:port`, `name`). */
function hostAttributes(host: string | undefined): Record<string, string | number> | null {
  if (host === undefined || host === '') return null;
  const colon = host.lastIndexOf(':');
  if (colon === -1 || host.endsWith(']')) return { [ATTR_SERVER_ADDRESS]: host };
  const port = Number(host.slice(colon + 1));
  return Number.isInteger(port) ? { [ATTR_SERVER_ADDRESS]: host.slice(0, colon), [ATTR_SERVER_PORT]: port } : { [ATTR_SERVER_ADDRESS]: host };
}

/** Span attribute (set at start) saying whether the caller's sampling decision may be followed. */
export const ATTR_PARENT_TRUSTED = 'gateway.trace.parent_trusted';

/**
 * Parent-based sampling with a trace-id ratio for new traces. The caller's sampled flag
 * is followed only when the caller is trusted (a trusted proxy or a loopback peer);
 * for anyone else the trace is continued (same trace id, same parent) but the ratio
 * decides, so a client cannot force every one of its requests to be recorded.
 */
export function createSampler(ratio: number): Sampler {
  // 0 and 1 decide the same as the ratio sampler, without hashing every trace id.
  const root = ratio <= 0 ? new AlwaysOffSampler() : ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio);
  const parentBased = new ParentBasedSampler({ root });
  return {
    shouldSample(context, traceId, name, kind, attributes, links) {
      const s = attributes[ATTR_PARENT_TRUSTED] === false ? root : parentBased;
      return s.shouldSample(context, traceId, name, kind, attributes, links);
    },
    toString: () => `GatewaySampler{${parentBased.toString()}}`,
  };
}

/** What `createRequestTracer` needs besides the config. */
export interface TracerDeps {
  readonly registry: Registry;
  readonly logger: Logger;
  /** Replaces the exporter the config names (tests, benchmarks). */
  readonly exporter?: SpanExporter;
}

/** Starts a server span per request; null from `createRequestTracer` when tracing is off. */
export class RequestTracer {
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;
  readonly #ids = new RandomIdGenerator();
  readonly #processor: BoundedSpanProcessor;
  readonly #responseHeader: string | null;

  constructor(config: TracingConfig, deps: TracerDeps) {
    const metrics = new TracingMetrics(deps.registry);
    const given = deps.exporter;
    const exporter = given === undefined ? () => new JaegerExporter({ endpoint: config.endpoint }) : () => given;
    this.#processor = new BoundedSpanProcessor(exporter, config, { metrics, logger: deps.logger, endpoint: config.endpoint });
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
      sampler: createSampler(config.sampleRatio),
      idGenerator: this.#ids,
      spanProcessors: [this.#processor],
    });
    this.#tracer = this.#provider.getTracer('gateway');
    this.#responseHeader = config.responseHeader;
  }

  /**
   * Start the server span of `req` (continuing the caller's trace) and attach it to
   * `req`; `trustedCaller` lets the caller's sampled flag decide (see createSampler).
   */
  start(req: IncomingMessage, res: ServerResponse, trustedCaller = true): RequestTrace {
    const parent = extractParent(req.headers);
    const ctx = parent === null ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent);
    const method = req.method ?? 'GET';
    const span = this.#tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, ...(parent === null || trustedCaller ? null : { attributes: { [ATTR_PARENT_TRUSTED]: false } }) },
      ctx,
    );
    if (span.isRecording()) {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const peer = req.socket.remoteAddress;
      const host = req.headers.host;
      const ua = req.headers['user-agent'];
      span.setAttributes({
        [ATTR_HTTP_REQUEST_METHOD]: method,
        [ATTR_URL_PATH]: q === -1 ? url : url.slice(0, q),
        [ATTR_URL_SCHEME]: 'http',
        [ATTR_NETWORK_PROTOCOL_VERSION]: req.httpVersion,
        ...hostAttributes(host),
        ...(peer === undefined ? null : { [ATTR_NETWORK_PEER_ADDRESS]: peer, [ATTR_CLIENT_ADDRESS]: peer }),
        ...(ua === undefined ? null : { [ATTR_USER_AGENT_ORIGINAL]: ua }),
      });
    }
    const rt = new RequestTrace(this.#tracer, this.#ids, span, method);
    (req as Traced)[TRACE] = rt;
    if (this.#responseHeader !== null) res.setHeader(this.#responseHeader, rt.traceId);
    return rt;
  }

  /** Spans ended but not yet exported or dropped (for tests and drain logs). */
  get pending(): number {
    return this.#processor.pending;
  }

  /** Export what is queued (at most `timeoutMs`), then stop. Never rejects. */
  async shutdown(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#provider.shutdown().catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}

/** The tracer `config` asks for, or null when tracing is off (then nothing is traced). */
export function createRequestTracer(config: TracingConfig, deps: TracerDeps): RequestTracer | null {
  return config.enabled ? new RequestTracer(config, deps) : null;
}
