/**
 * Client of the Jaeger query service's HTTP JSON API (what the Jaeger UI uses, port
 * 16686): `GET /api/traces/{id}`, `GET /api/traces?service=&limit=`, `GET /api/services`.
 * Every answer is the envelope `{data, total, limit, offset, errors}`; an unknown trace
 * is a 404 with `errors: [{code: 404, msg: "trace not found"}]`.
 *
 * Failures become typed errors naming the URL: unreachable, timed out, non-JSON or an
 * error envelope → TraceBackendError; 404 for a trace → TraceNotFoundError.
 * Uses its own undici Agent (never the global dispatcher), closed by `close()`.
 */
import { Agent, request } from 'undici';
import { TraceBackendError, TraceNotFoundError } from '../common/index.js';

/** A tag as Jaeger's JSON model writes it. */
export interface JaegerTag {
  readonly key: string;
  readonly type?: string;
  readonly value: string | number | boolean;
}

/** A span in Jaeger's JSON model (times in microseconds). */
export interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references?: readonly { refType: string; traceID: string; spanID: string }[] | null;
  readonly startTime: number;
  readonly duration: number;
  readonly tags?: readonly JaegerTag[] | null;
  readonly processID: string;
}

/** A trace in Jaeger's JSON model. */
export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { serviceName: string }>>;
}

interface Envelope<T> {
  data: T | null;
  errors?: { code?: number; msg?: string }[] | null;
}

/** Talks to one Jaeger query service. */
export class JaegerQueryClient {
  readonly #base: string;
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  /** `baseUrl` like `http://127.0.0.1:16686` (a path prefix such as `/jaeger` is kept). */
  constructor(baseUrl: string, timeoutMs = 10_000) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
    // The request's abort signal is the one deadline; the agent's own timeouts sit behind it.
    const late = timeoutMs + 1_000;
    this.#agent = new Agent({ connect: { timeout: late }, headersTimeout: late, bodyTimeout: late });
  }

  /** The trace with id `traceId` (hex). */
  async getTrace(traceId: string): Promise<JaegerTrace> {
    const { status, body } = await this.#get<JaegerTrace[]>(`/api/traces/${encodeURIComponent(traceId)}`);
    if (status === 404) throw new TraceNotFoundError(traceId, this.#base);
    const trace = this.#data(status, body)?.[0];
    if (trace === undefined || !Array.isArray(trace.spans)) throw new TraceNotFoundError(traceId, this.#base);
    return trace;
  }

  /** Recent traces that have spans of `service`, at most `limit`. */
  async findTraces(service: string, limit: number): Promise<JaegerTrace[]> {
    const q = new URLSearchParams({ service, limit: String(limit) });
    const { status, body } = await this.#get<JaegerTrace[]>(`/api/traces?${q}`);
    return this.#data(status, body) ?? [];
  }

  /** Service names Jaeger has spans for. */
  async services(): Promise<string[]> {
    const { status, body } = await this.#get<string[]>('/api/services');
    return this.#data(status, body) ?? [];
  }

  /** Release the connection pool. */
  close(): Promise<void> {
    return this.#agent.close();
  }

  async #get<T>(path: string): Promise<{ status: number; body: Envelope<T> | null }> {
    const url = this.#base + path;
    let res;
    try {
      res = await request(url, { dispatcher: this.#agent, signal: AbortSignal.timeout(this.#timeoutMs), headers: { accept: 'application/json' } });
    } catch (err) {
      const e = err as Error & { code?: string };
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${this.#timeoutMs} ms` : (e.code ?? e.message);
      throw new TraceBackendError(`cannot reach the Jaeger query API at ${this.#base} (${why})`, { cause: err });
    }
    const text = await res.body.text().catch(() => '');
    let body: Envelope<T> | null = null;
    try {
      body = JSON.parse(text) as Envelope<T>;
    } catch {
      // left null: reported below unless the status says enough
    }
    if (body === null && res.statusCode !== 404) {
      throw new TraceBackendError(`the Jaeger query API at ${this.#base} answered ${res.statusCode} with a body that is not JSON`);
    }
    return { status: res.statusCode, body };
  }

  #data<T>(status: number, body: Envelope<T> | null): T | null {
    const errors = body?.errors ?? [];
    if (status >= 400 || errors.length > 0) {
      const msg = errors.map((e) => e.msg).filter(Boolean).join('; ') || `status ${status}`;
      throw new TraceBackendError(`the Jaeger query API at ${this.#base} refused the query: ${msg}`);
    }
    return body?.data ?? null;
  }
}
