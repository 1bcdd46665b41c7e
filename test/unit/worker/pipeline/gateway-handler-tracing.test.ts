/**
 * The handler's tracing hooks on the failure paths, in one process with the SDK's
 * in-memory exporter: every outcome ends the server span once with its status, every
 * upstream try ends its client span with the error the gateway saw, and requests that
 * never reach an upstream have no client span.
 */
import t from 'tap';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import pino from 'pino';
import { request } from 'undici';
import { RequestTracer } from '../../../../src/telemetry/index.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot, TRACING_OFF } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';
import { freePort, waitFor } from '../../../helpers/net.js';

/** Minimal tap surface `setup` needs. */
interface HasTeardown {
  teardown(fn: () => unknown): void;
}

async function setup(t: HasTeardown) {
  const exporter = new InMemorySpanExporter();
  const tracer = new RequestTracer(
    { ...TRACING_OFF, enabled: true, sampleRatio: 1, flushIntervalMs: 10 },
    { registry: new Registry(), logger: pino({ level: 'silent' }), exporter },
  );
  const up = await startUpstream((req, res) => {
    const status = Number(req.url!.split('/')[1]) || 200;
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
    res.writeHead(status, { 'content-length': '2' });
    res.end('ok');
  });
  const dead = await freePort();
  const gw = await startInProcess(
    snapshot(
      [
        service('up', [up.url]),
        service('gone', [`http://127.0.0.1:${dead}`], { retry: { attempts: 0 } }),
        // Dead first, live second: a connect failure is retried on the other instance.
        service('retried', [`http://127.0.0.1:${dead}`, up.url], { outlierDetection: { enabled: false } }),
      ],
      [route('up', ['/up/*'], 'up', { stripPrefix: true }), route('gone', ['/gone'], 'gone'), route('retried', ['/retried'], 'retried')],
      { limits: { maxBodyBytes: 10 } },
    ),
    { tracer },
  );
  t.teardown(async () => {
    await gw.close();
    await up.close();
    await tracer.shutdown(500);
  });
  /** The spans of `traceId`, once `n` of them have been exported. */
  const spans = async (traceId: string, n: number) => {
    const of = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    await waitFor(() => of().length >= n, 5_000);
    const all = of();
    return { all, server: all.find((s) => s.kind === SpanKind.SERVER)!, clients: all.filter((s) => s.kind === SpanKind.CLIENT) };
  };
  return { gw, up, spans };
}

const attr = (s: ReadableSpan, k: string) => s.attributes[k];

t.test('a refused upstream: client span errors with the gateway code, server span is a 502 error', async (t) => {
  const { gw, spans } = await setup(t);
  const res = await request(`${gw.url}/gone`);
  t.equal(res.statusCode, 502);
  await res.body.dump();
  const { all, server, clients } = await spans(res.headers['x-trace-id'] as string, 2);
  t.equal(all.length, 2);
  t.equal(clients.length, 1);
  t.equal(attr(clients[0]!, 'error.type'), 'GW_UPSTREAM_UNAVAILABLE');
  t.equal(attr(clients[0]!, 'http.response.status_code'), undefined, 'no upstream status to report');
  t.equal(clients[0]!.status.code, SpanStatusCode.ERROR);
  t.equal(attr(server, 'http.response.status_code'), 502);
  t.equal(attr(server, 'gateway.error.code'), 'GW_UPSTREAM_UNAVAILABLE');
  t.equal(server.status.code, SpanStatusCode.ERROR);
  await waitFor(() => gw.logs.some((l) => l.route === 'gone'), 5_000);
  t.equal(gw.logs.find((l) => l.route === 'gone')!.traceId, server.spanContext().traceId, 'access log carries the trace id');
});

t.test('a retry shows as a second client span under the same server span, with its own traceparent', async (t) => {
  const { gw, up, spans } = await setup(t);
  const res = await request(`${gw.url}/retried`);
  t.equal(res.statusCode, 200);
  await res.body.dump();
  const { all, server, clients } = await spans(res.headers['x-trace-id'] as string, 3);
  t.equal(all.length, 3, 'one server span, two client spans');
  const [first, second] = [...clients].sort((a, b) => Number(attr(a, 'http.request.resend_count') ?? 0) - Number(attr(b, 'http.request.resend_count') ?? 0));
  for (const c of clients) t.equal(c.parentSpanContext?.spanId ?? (c as unknown as { parentSpanId?: string }).parentSpanId, server.spanContext().spanId, 'child of the server span');
  t.equal(attr(first!, 'error.type'), 'GW_UPSTREAM_UNAVAILABLE', 'the first try failed to connect');
  t.equal(attr(second!, 'http.request.resend_count'), 1, 'the second try is marked as a resend');
  t.equal(attr(second!, 'http.response.status_code'), 200);
  const seen = up.seen.at(-1)!;
  t.equal(String(seen.headers.traceparent).split('-')[2], second!.spanContext().spanId, 'the upstream saw the retry span as its parent');
});

t.test('upstream statuses: 503 is an error on both spans, 404 only on the client span', async (t) => {
  const { gw, spans } = await setup(t);
  for (const [status, serverError] of [[503, true], [404, false]] as const) {
    const res = await request(`${gw.url}/up/${status}`);
    t.equal(res.statusCode, status);
    await res.body.dump();
    const { server, clients } = await spans(res.headers['x-trace-id'] as string, 2);
    t.equal(attr(clients[0]!, 'http.response.status_code'), status);
    t.equal(attr(clients[0]!, 'error.type'), String(status));
    t.equal(clients[0]!.status.code, SpanStatusCode.ERROR, `${status}: client span error`);
    t.equal(server.status.code, serverError ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, `${status}: server span`);
    t.equal(clients[0]!.parentSpanContext?.spanId, server.spanContext().spanId);
  }
});

t.test('a request refused before any try has a server span only', async (t) => {
  const { gw, spans } = await setup(t);
  const res = await request(`${gw.url}/up/x`, { method: 'POST', body: 'far more than ten bytes' });
  t.equal(res.statusCode, 413);
  await res.body.dump();
  const { all, server } = await spans(res.headers['x-trace-id'] as string, 1);
  // A try span always ends before its server span, so it would be here by now.
  t.equal(all.length, 1, 'no client span');
  t.equal(attr(server, 'gateway.error.code'), 'GW_PAYLOAD_TOO_LARGE');
  t.equal(server.name, 'POST up');
});

t.test('a client that goes away ends the try with GW_CLIENT_CLOSED (status 499)', async (t) => {
  const { gw, up, spans } = await setup(t);
  const controller = new AbortController();
  const pending = request(`${gw.url}/up/slow`, { signal: controller.signal }).catch(() => null);
  // Abort once the upstream has the request (the try is under way).
  await waitFor(() => up.seen.some((r) => r.url === '/slow'), 5_000);
  controller.abort();
  await pending;
  await waitFor(() => gw.logs.some((l) => l.status === 499), 5_000);
  const traceId = gw.logs.find((l) => l.status === 499)!.traceId as string;
  const { server, clients } = await spans(traceId, 2);
  t.equal(attr(clients[0]!, 'error.type'), 'GW_CLIENT_CLOSED');
  t.equal(attr(server, 'http.response.status_code'), 499);
  t.equal(server.status.code, SpanStatusCode.UNSET, 'the client leaving is not a server error');
});
