/**
 * The per-worker tracer end to end in one process: spans go through the real Jaeger
 * exporter (thrift over HTTP) to the collector double; sampling decisions; and every way
 * export can fail only drops spans and counts them.
 */
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { request } from 'undici';
import pino from 'pino';
import type { TracingConfig } from '../../../../src/ipc/index.js';
import { createRequestTracer, createSampler, RequestTracer } from '../../../../src/telemetry/tracing/index.js';
import { ATTR_PARENT_TRUSTED } from '../../../../src/telemetry/tracing/request-tracer.js';
import { startJaegerCollector } from '../../../doubles/jaeger-collector.js';
import { TRACING_OFF } from '../../../helpers/snapshot.js';
import { waitFor } from '../../../helpers/net.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';
const silent = pino({ level: 'silent' });

function decide(ratio: number, parent: 'none' | 'sampled' | 'unsampled', traceId = TID, trusted = true): SamplingDecision {
  const ctx =
    parent === 'none'
      ? ROOT_CONTEXT
      : trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: SID, isRemote: true, traceFlags: parent === 'sampled' ? TraceFlags.SAMPLED : TraceFlags.NONE });
  const attributes = trusted ? {} : { [ATTR_PARENT_TRUSTED]: false };
  return createSampler(ratio).shouldSample(ctx, traceId, 'GET', SpanKind.SERVER, attributes, []).decision;
}

t.test('an untrusted caller cannot force recording: its sampled flag is ignored, the ratio decides', async (t) => {
  t.equal(decide(0, 'sampled', TID, false), SamplingDecision.NOT_RECORD, 'sampled flag from an untrusted caller at ratio 0');
  t.equal(decide(1, 'unsampled', TID, false), SamplingDecision.RECORD_AND_SAMPLED, 'the ratio applies to its requests like new traces');
  t.equal(decide(0, 'sampled', TID, true), SamplingDecision.RECORD_AND_SAMPLED, 'a trusted caller is followed');
});

t.test('sampling is parent-based with a trace-id ratio for new traces', async (t) => {
  t.equal(decide(1, 'none'), SamplingDecision.RECORD_AND_SAMPLED, 'ratio 1 records every new trace');
  t.equal(decide(0, 'none'), SamplingDecision.NOT_RECORD, 'ratio 0 records no new trace');
  t.equal(decide(0, 'sampled'), SamplingDecision.RECORD_AND_SAMPLED, 'a sampled caller is followed even at ratio 0');
  t.equal(decide(1, 'unsampled'), SamplingDecision.NOT_RECORD, 'an unsampled caller is followed even at ratio 1');
  let sampled = 0;
  let unstable = 0;
  const ids = Array.from({ length: 4000 }, (_, i) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, '0').slice(-32));
  for (const id of ids) {
    const d = decide(0.25, 'none', id);
    if (decide(0.25, 'none', id) !== d) unstable++;
    if (d === SamplingDecision.RECORD_AND_SAMPLED) sampled++;
  }
  t.equal(unstable, 0, 'the decision depends only on the trace id');
  t.ok(sampled > 4000 * 0.15 && sampled < 4000 * 0.35, `about a quarter of new traces sampled at 0.25 (${sampled}/4000)`);
});

t.test('disabled config gives no tracer', async (t) => {
  t.equal(createRequestTracer(TRACING_OFF, { registry: new Registry(), logger: silent }), null);
});

/** A tiny server that traces each request: one try, then the response. */
async function tracedServer(tracer: RequestTracer, tries = 1) {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const rt = tracer.start(req, res);
    for (let i = 0; i < tries; i++) {
      const attempt = rt.startTry({ method: 'GET', authority: '10.0.0.5:8080', target: '/up?secret=1', service: 'users' });
      seen.push(attempt.withHeaders(['traceparent', 'stale', 'Uber-Trace-Id', 'stale', 'x-other', 'kept']).join(' '));
      attempt.end(i < tries - 1 ? 503 : 200, null);
    }
    rt.end(200, null, 'users-route');
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const on = (over: Partial<TracingConfig>): TracingConfig => ({ ...TRACING_OFF, enabled: true, sampleRatio: 1, flushIntervalMs: 10, ...over });

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return Number(v?.value ?? 0);
}

t.test('server and client spans reach the collector through the real exporter, linked parent to child', async (t) => {
  const collector = await startJaegerCollector();
  t.teardown(() => collector.close());
  const registry = new Registry();
  const tracer = new RequestTracer(on({ endpoint: collector.endpoint, serviceName: 'edge' }), { registry, logger: silent });
  const srv = await tracedServer(tracer, 2);
  t.teardown(() => srv.close());

  const res = await request(`${srv.url}/a/b?q=1`, { headers: { traceparent: `00-${TID}-${SID}-01`, 'user-agent': 'test-agent' } });
  await res.body.dump();
  t.equal(res.headers['x-trace-id'], TID, 'the response names the (continued) trace');
  await waitFor(() => collector.spans.length === 3, 5_000);
  t.equal(collector.requests[0]?.contentType, 'application/x-thrift');
  const server = collector.spans.find((s) => s.tags.get('span.kind') === 'server')!;
  const clients = collector.spans.filter((s) => s.tags.get('span.kind') === 'client');
  t.equal(server.traceId, TID);
  t.equal(server.parentSpanId, SID, 'the server span is a child of the caller');
  t.equal(server.operationName, 'GET users-route');
  t.equal(server.serviceName, 'edge');
  t.equal(server.tags.get('http.request.method'), 'GET');
  t.equal(server.tags.get('url.path'), '/a/b', 'no query in span attributes');
  t.equal(server.tags.get('http.response.status_code'), 200);
  t.equal(server.tags.get('gateway.route.id'), 'users-route');
  t.equal(server.tags.get('user_agent.original'), 'test-agent');
  t.equal(clients.length, 2, 'one client span per try');
  for (const c of clients) {
    t.equal(c.traceId, TID);
    t.equal(c.parentSpanId, server.spanId, 'each try is a child of the server span');
    t.equal(c.tags.get('server.address'), '10.0.0.5');
    t.equal(c.tags.get('server.port'), 8080);
    t.equal(c.tags.get('url.path'), '/up');
  }
  const [first, second] = [...clients].sort((a, b) => a.startTime - b.startTime);
  t.equal(first!.tags.get('error.type'), '503', 'a failed try is marked');
  t.equal(first!.tags.get('error'), true);
  t.equal(second!.tags.get('http.request.resend_count'), 1, 'the retry says it is one');
  // The upstream headers carry each try's own context instead of the caller's.
  t.equal(srv.seen.length, 2);
  for (const [i, line] of srv.seen.entries()) {
    t.notOk(line.includes('stale'), 'caller trace headers replaced');
    t.ok(line.includes('x-other kept'), 'other headers kept');
    const sorted = [...clients].sort((a, b) => a.startTime - b.startTime);
    t.ok(line.includes(`traceparent 00-${TID}-${sorted[i]!.spanId}-01`), `try ${i} sends its own span as parent`);
  }
  // Counted when the collector's 202 arrives, a moment after it stored the spans.
  await waitFor(async () => (await counter(registry, 'gateway_trace_spans_exported_total')) === 3, 5_000);
  t.pass('3 spans counted as exported');
  await tracer.shutdown(1_000);
});

t.test('an unsampled request still gets ids to propagate, but nothing is exported', async (t) => {
  const collector = await startJaegerCollector();
  t.teardown(() => collector.close());
  const tracer = new RequestTracer(on({ endpoint: collector.endpoint, sampleRatio: 0, responseHeader: 'trace-id' }), { registry: new Registry(), logger: silent });
  const srv = await tracedServer(tracer);
  t.teardown(() => srv.close());
  const res = await request(`${srv.url}/`);
  await res.body.dump();
  t.match(res.headers['trace-id'], /^[0-9a-f]{32}$/, 'configured header name');
  t.match(srv.seen[0], new RegExp(`traceparent 00-${res.headers['trace-id']}-[0-9a-f]{16}-00`), 'unsampled flag propagated');
  await tracer.shutdown(1_000);
  t.equal(collector.requests.length, 0);
});

for (const mode of ['fail', 'hang', 'dead'] as const) {
  t.test(`a collector that is ${mode === 'fail' ? 'failing (500)' : mode === 'hang' ? 'not answering' : 'down'}: spans dropped and counted`, async (t) => {
    const collector = await startJaegerCollector();
    let endpoint = collector.endpoint;
    if (mode === 'dead') {
      await collector.close();
      endpoint = `${collector.url}/api/traces`; // nothing listens there any more
    } else {
      collector.mode = mode;
      t.teardown(() => collector.close());
    }
    const registry = new Registry();
    const tracer = new RequestTracer(on({ endpoint, exportTimeoutMs: 300 }), { registry, logger: silent });
    const srv = await tracedServer(tracer);
    t.teardown(() => srv.close());
    for (let i = 0; i < 3; i++) {
      const res = await request(`${srv.url}/`);
      t.equal(res.statusCode, 200, 'requests are unaffected');
      await res.body.dump();
    }
    await waitFor(async () => (await counter(registry, 'gateway_trace_spans_dropped_total', { reason: 'export_failed' })) === 6, 5_000);
    t.ok((await counter(registry, 'gateway_trace_export_failures_total')) >= 1);
    t.equal(await counter(registry, 'gateway_trace_spans_exported_total'), 0);
    t.equal(tracer.pending, 0, 'nothing left waiting');
    if (mode === 'hang') {
      // The hung exports' sockets are destroyed with the replaced exporter.
      await waitFor(() => collector.connections === 0, 5_000);
      t.pass('no hung connection left open');
    }
    await tracer.shutdown(500);
  });
}

t.test('a full queue drops new spans and counts them as queue_full', async (t) => {
  const collector = await startJaegerCollector();
  t.teardown(() => collector.close());
  collector.mode = 'hang';
  const registry = new Registry();
  const tracer = new RequestTracer(on({ endpoint: collector.endpoint, queueSize: 2, batchSize: 2, exportTimeoutMs: 60_000 }), { registry, logger: silent });
  const srv = await tracedServer(tracer);
  t.teardown(() => srv.close());
  for (let i = 0; i < 3; i++) await (await request(`${srv.url}/`)).body.dump();
  t.equal(await counter(registry, 'gateway_trace_spans_dropped_total', { reason: 'queue_full' }), 4, '2 of 6 spans fit');
  t.equal(tracer.pending, 2);
  await tracer.shutdown(200);
});
