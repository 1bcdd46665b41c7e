/**
 * A Jaeger query-service double: the HTTP JSON API the Jaeger UI uses (port 16686),
 * written from Jaeger's query service (`cmd/query/app/http_handler.go`, `model/json`):
 *
 *   GET /api/services                      {"data": ["svc", ...], "total": n, ...}
 *   GET /api/traces/{traceID}              {"data": [trace], ...}; unknown id → 404 with
 *                                          {"data": null, ..., "errors": [{"code": 404, "msg": "trace not found"}]}
 *   GET /api/traces?service=S&limit=N      {"data": [trace, ...], ...}; no service → 400
 *
 * Every answer is the `structuredResponse` envelope `{data, total, limit, offset, errors}`.
 * A trace is `{traceID, spans, processes, warnings}`; a span is `{traceID, spanID, flags,
 * operationName, references: [{refType: "CHILD_OF", traceID, spanID}], startTime,
 * duration (µs), tags: [{key, type, value}], logs, processID, warnings}`; the parent is a
 * CHILD_OF reference, not a field. Trace ids are hex without leading zeros padding
 * beyond 16 digits for 64-bit ids, and look-up accepts either form.
 * Spans come from `source()` (usually the collector double's store).
 */
import { createServer, type Server } from 'node:http';
import { listenOnLoopback } from '../helpers/net.js';
import type { CollectedSpan, TagValue } from './jaeger-collector.js';

/** A running query double. */
export interface JaegerQuery {
  readonly url: string;
  /** Requests seen (path and query). */
  readonly requests: string[];
  close(): Promise<void>;
}

interface JsonTag {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64' | 'binary';
  value: string | number | boolean;
}

function jsonTag(key: string, v: TagValue): JsonTag {
  if (typeof v === 'boolean') return { key, type: 'bool', value: v };
  if (typeof v === 'number') return { key, type: Number.isInteger(v) ? 'int64' : 'float64', value: v };
  if (typeof v === 'bigint') return { key, type: 'int64', value: Number(v) };
  if (Buffer.isBuffer(v)) return { key, type: 'binary', value: v.toString('base64') };
  return { key, type: 'string', value: v };
}

// Jaeger prints a 128-bit id whose high half is zero as 16 digits.
const shortId = (id: string): string => (id.startsWith('0000000000000000') ? id.slice(16) : id);
const normalizeId = (id: string): string => id.toLowerCase().padStart(32, '0');

/** Spans grouped into Jaeger JSON traces, newest first. */
export function toJaegerTraces(spans: readonly CollectedSpan[]): unknown[] {
  const byTrace = new Map<string, CollectedSpan[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  const traces = [...byTrace.entries()].map(([traceId, list]) => {
    const processes: Record<string, { serviceName: string; tags: JsonTag[] }> = {};
    const processIds = new Map<string, string>();
    const spansJson = list.map((s) => {
      let pid = processIds.get(s.serviceName);
      if (pid === undefined) {
        pid = `p${processIds.size + 1}`;
        processIds.set(s.serviceName, pid);
        processes[pid] = { serviceName: s.serviceName, tags: [...s.processTags].map(([k, v]) => jsonTag(k, v)) };
      }
      const refs = s.references.map((r) => ({ refType: r.refType, traceID: shortId(r.traceId), spanID: r.spanId }));
      if (s.parentSpanId !== '0000000000000000' && !refs.some((r) => r.spanID === s.parentSpanId)) {
        refs.unshift({ refType: 'CHILD_OF', traceID: shortId(traceId), spanID: s.parentSpanId });
      }
      return {
        traceID: shortId(traceId),
        spanID: s.spanId,
        flags: s.flags,
        operationName: s.operationName,
        references: refs,
        startTime: s.startTime,
        duration: s.duration,
        tags: [...s.tags].map(([k, v]) => jsonTag(k, v)),
        logs: [],
        processID: pid,
        warnings: null,
      };
    });
    return { traceID: shortId(traceId), spans: spansJson, processes, warnings: null, start: Math.min(...list.map((s) => s.startTime)) };
  });
  traces.sort((a, b) => b.start - a.start);
  return traces.map(({ start: _start, ...t }) => t);
}

/** Start a query double on 127.0.0.1 serving the spans `source()` returns. */
export async function startJaegerQuery(source: () => readonly CollectedSpan[]): Promise<JaegerQuery> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    const url = new URL(req.url ?? '/', 'http://query');
    const send = (status: number, data: unknown, errors: { code: number; msg: string }[] | null = null, total = 0, limit = 0) => {
      const body = JSON.stringify({ data, total, limit, offset: 0, errors });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, null, [{ code: 405, msg: 'method not allowed' }]);
    if (url.pathname === '/api/services') {
      const names = [...new Set(source().map((s) => s.serviceName))].sort();
      return send(200, names, null, names.length);
    }
    const one = /^\/api\/traces\/([^/]+)$/.exec(url.pathname);
    if (one !== null) {
      const id = one[1]!;
      if (!/^[0-9a-fA-F]{1,32}$/.test(id)) return send(400, null, [{ code: 400, msg: `strconv.ParseUint: parsing "${id}": invalid syntax` }]);
      const wanted = normalizeId(id);
      const spans = source().filter((s) => s.traceId === wanted);
      if (spans.length === 0) return send(404, null, [{ code: 404, msg: 'trace not found' }]);
      return send(200, toJaegerTraces(spans), null, 1);
    }
    if (url.pathname === '/api/traces') {
      const service = url.searchParams.get('service');
      if (service === null || service === '') return send(400, null, [{ code: 400, msg: "parameter 'service' is required" }]);
      const limit = Number(url.searchParams.get('limit') ?? '20') || 20;
      const ids = new Set(source().filter((s) => s.serviceName === service).map((s) => s.traceId));
      const traces = toJaegerTraces(source().filter((s) => ids.has(s.traceId))).slice(0, limit);
      return send(200, traces, null, traces.length, limit);
    }
    send(404, null, [{ code: 404, msg: '404 page not found' }]);
  });
  const { port, close } = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, requests, close };
}
