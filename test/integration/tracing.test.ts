/**
 * Tracing through real gateway processes: spans exported by the real Jaeger exporter to
 * the collector double, trace context continued from callers and handed to upstreams,
 * trace ids in access logs and responses, and a dead collector costing nothing but spans.
 */
import t from 'tap';
import { Agent, request } from 'undici';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/net.js';
import { startJaegerCollector, type CollectedSpan } from '../doubles/jaeger-collector.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';

function config(up: TestUpstream, tracing: Record<string, unknown> | null) {
  return (port: number) => ({
    ...(testConfig(port, [{ name: 's', instances: [{ url: up.url }] }], [{ id: 'r', path: '/r/*', service: 's', stripPrefix: true }], { workers: 1 }) as object),
    ...(tracing === null ? {} : { telemetry: { tracing } }),
  });
}

const spansOf = (spans: CollectedSpan[], traceId: string) => spans.filter((s) => s.traceId === traceId);
const kind = (s: CollectedSpan) => s.tags.get('span.kind');

t.test('at 100 % a request gives a server span and a client span; the upstream sees the client span as parent', async (t) => {
  const collector = await startJaegerCollector();
  t.teardown(() => collector.close());
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway(config(up, { enabled: true, sampleRatio: 1, endpoint: collector.endpoint, flushIntervalMs: 50 }), {
    env: { GATEWAY_ACCESS_LOG: 'on' },
  });
  t.teardown(() => gw.stop('SIGKILL'));

  const res = await request(`${gw.url}/r/hello?x=1`);
  t.equal(res.statusCode, 200);
  await res.body.dump();
  const traceId = res.headers['x-trace-id'] as string;
  t.match(traceId, /^[0-9a-f]{32}$/, 'trace id in the response header');
  await waitFor(() => spansOf(collector.spans, traceId).length === 2, 10_000);
  const spans = spansOf(collector.spans, traceId);
  const server = spans.find((s) => kind(s) === 'server')!;
  const client = spans.find((s) => kind(s) === 'client')!;
  t.equal(server.parentSpanId, '0000000000000000', 'a new trace: the server span is the root');
  t.equal(server.operationName, 'GET r');
  t.equal(server.serviceName, 'gateway');
  t.equal(server.tags.get('http.response.status_code'), 200);
  t.equal(server.tags.get('gateway.route.id'), 'r');
  t.equal(client.parentSpanId, server.spanId, 'the try is a child of the server span');
  t.equal(client.tags.get('server.port'), up.port);
  t.equal(client.tags.get('url.path'), '/hello');
  t.equal(client.tags.get('gateway.service'), 's');
  t.equal(up.seen[0]!.headers.traceparent, `00-${traceId}-${client.spanId}-01`, 'upstream parent = the client span');
  await waitFor(() => gw.logs.some((l) => l.msg === 'request' && l.route === 'r'), 5_000);
  t.equal(gw.logs.find((l) => l.msg === 'request' && l.route === 'r')!.traceId, traceId, 'trace id in the access log');

  // A 404 (no upstream try) still gets a server span, and an error status.
  const miss = await request(`${gw.url}/nothing-here`);
  await miss.body.dump();
  const missId = miss.headers['x-trace-id'] as string;
  await waitFor(() => spansOf(collector.spans, missId).length === 1, 10_000);
  t.equal(spansOf(collector.spans, missId)[0]!.tags.get('gateway.error.code'), 'GW_ROUTE_NOT_FOUND');
});

t.test('a retried request: two client spans under one server span, each the parent of its own upstream try', async (t) => {
  const collector = await startJaegerCollector();
  t.teardown(() => collector.close());
  // First instance answers 503, the second 200: retry on 503 lands on the second.
  const failing = await startUpstream((_req, res) => {
    res.writeHead(503);
    res.end('busy');
  });
  const up = await startUpstream();
  t.teardown(() => Promise.all([failing.close(), up.close()]));
  const gw = await startGateway(
    (port) => ({
      ...(testConfig(
        port,
        [{ name: 's', instances: [{ url: failing.url }, { url: up.url }], retry: { attempts: 1, on: [503] }, outlierDetection: { enabled: false } }],
        [{ id: 'r', path: '/r/*', service: 's', stripPrefix: true }],
        { workers: 1 },
      ) as object),
      telemetry: { tracing: { enabled: true, sampleRatio: 1, endpoint: collector.endpoint, flushIntervalMs: 50 } },
    }),
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const res = await request(`${gw.url}/r/retry-me`);
  t.equal(res.statusCode, 200, 'the retry succeeded');
  await res.body.dump();
  const traceId = res.headers['x-trace-id'] as string;
  await waitFor(() => spansOf(collector.spans, traceId).length === 3, 10_000);
  const spans = spansOf(collector.spans, traceId);
  const server = spans.find((s) => kind(s) === 'server')!;
  const clients = spans.filter((s) => kind(s) === 'client');
  t.equal(clients.length, 2, 'one client span per try');
  for (const c of clients) t.equal(c.parentSpanId, server.spanId, 'every try is a child of the server span');
  const first = clients.find((c) => c.tags.get('server.port') === failing.port)!;
  const second = clients.find((c) => c.tags.get('server.port') === up.port)!;
  t.equal(first.tags.get('http.response.status_code'), 503);
  t.equal(second.tags.get('http.request.resend_count'), 1, 'the second try is marked as a resend');
  t.equal(failing.seen[0]!.headers.traceparent, `00-${traceId}-${first.spanId}-01`, 'first instance: parent = first try');
  t.equal(up.seen[0]!.headers.traceparent, `00-${traceId}-${second.spanId}-01`, 'second instance: parent = second try');
  t.equal(server.tags.get('http.response.status_code'), 200);
});

t.test("a caller's traceparent (or uber-trace-id) is continued and replaced upstream", async (t) => {
  const collector = await startJaegerCollector();
  t.teardown(() => collector.close());
  const up = await startUpstream();
  t.teardown(() => up.close());
  // Ratio 0: only the caller's sampled flag makes these traces recorded.
  const gw = await startGateway(config(up, { enabled: true, sampleRatio: 0, endpoint: collector.endpoint, flushIntervalMs: 50, responseHeader: null }));
  t.teardown(() => gw.stop('SIGKILL'));

  const res = await request(`${gw.url}/r/a`, { headers: { traceparent: `00-${TID}-${SID}-01`, tracestate: 'vendor=abc' } });
  await res.body.dump();
  t.equal(res.headers['x-trace-id'], undefined, 'responseHeader: null sends none');
  await waitFor(() => spansOf(collector.spans, TID).length === 2, 10_000);
  const server = spansOf(collector.spans, TID).find((s) => kind(s) === 'server')!;
  const client = spansOf(collector.spans, TID).find((s) => kind(s) === 'client')!;
  t.equal(server.parentSpanId, SID, 'server span continues the caller span');
  t.equal(up.seen[0]!.headers.traceparent, `00-${TID}-${client.spanId}-01`, 'the upstream gets the gateway span, not the caller one');
  t.equal(up.seen[0]!.headers.tracestate, 'vendor=abc', 'tracestate travels along');

  const uberTrace = 'a3ce929d0e0e4736';
  const res2 = await request(`${gw.url}/r/b`, { headers: { 'uber-trace-id': `${uberTrace}:1111111111111111:0:1` } });
  await res2.body.dump();
  const full = uberTrace.padStart(32, '0');
  await waitFor(() => spansOf(collector.spans, full).length === 2, 10_000);
  t.equal(spansOf(collector.spans, full).find((s) => kind(s) === 'server')!.parentSpanId, '1111111111111111');
  t.equal(up.seen[1]!.headers['uber-trace-id'], undefined, 'the stale Jaeger header is not forwarded');
  t.match(up.seen[1]!.headers.traceparent, new RegExp(`^00-${full}-[0-9a-f]{16}-01$`));

  // Garbage is ignored: a new (here unsampled) trace, and the request is served.
  const res3 = await request(`${gw.url}/r/c`, { headers: { traceparent: 'not-a-trace', 'uber-trace-id': 'zz' } });
  t.equal(res3.statusCode, 200);
  await res3.body.dump();
  t.match(up.seen[2]!.headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, 'a fresh unsampled context replaces the garbage');
});

t.test('tracing off: trace headers pass through untouched, no trace id anywhere', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway(config(up, null), { env: { GATEWAY_ACCESS_LOG: 'on' } });
  t.teardown(() => gw.stop('SIGKILL'));
  const res = await request(`${gw.url}/r/a`, { headers: { traceparent: `00-${TID}-${SID}-01`, 'uber-trace-id': 'abc:def:0:1' } });
  await res.body.dump();
  t.equal(res.headers['x-trace-id'], undefined);
  t.equal(up.seen[0]!.headers.traceparent, `00-${TID}-${SID}-01`, 'forwarded as before');
  t.equal(up.seen[0]!.headers['uber-trace-id'], 'abc:def:0:1');
  await waitFor(() => gw.logs.some((l) => l.msg === 'request' && l.route === 'r'), 5_000);
  t.notOk('traceId' in gw.logs.find((l) => l.msg === 'request' && l.route === 'r')!);
});

t.test('a collector that is down: requests still succeed, dropped spans are counted in /metrics', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const dead = await freePort();
  const gw = await startGateway(
    config(up, { enabled: true, sampleRatio: 1, endpoint: `http://127.0.0.1:${dead}/api/traces`, flushIntervalMs: 50, exportTimeoutMs: 500 }),
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const agent = new Agent({ connections: 4 });
  t.teardown(() => agent.close());
  for (let i = 0; i < 20; i++) {
    const res = await request(`${gw.url}/r/${i}`, { dispatcher: agent });
    t.equal(res.statusCode, 200);
    await res.body.dump();
  }
  const dropped = await waitFor(async () => {
    const page = await (await request(`${gw.url}/__gateway/metrics`, { dispatcher: agent })).body.text();
    const line = page.split('\n').find((l) => l.startsWith('gateway_trace_spans_dropped_total{reason="export_failed"}'));
    const n = Number(line?.split(' ').pop() ?? 0);
    return n >= 40 ? { n, page } : null;
  }, 10_000, 100);
  if (dropped === null) throw new Error('unreachable: waitFor resolves only with a value');
  t.ok(dropped.n >= 40, `every span of the 20 requests dropped (${dropped.n})`);
  t.match(dropped.page, /gateway_trace_export_failures_total \d+/);
  t.notOk(gw.logs.some((l) => l.level === 'error'), 'no error lines');
  t.ok(gw.logs.filter((l) => String(l.msg).startsWith('trace export failed')).length <= 1, 'failure logged at most once a minute');
});

t.test('a draining worker sends its queued spans before it exits', async (t) => {
  const collector = await startJaegerCollector();
  t.teardown(() => collector.close());
  const up = await startUpstream();
  t.teardown(() => up.close());
  // A flush interval far longer than the test: only the drain can send these spans.
  const gw = await startGateway(config(up, { enabled: true, sampleRatio: 1, endpoint: collector.endpoint, flushIntervalMs: 60_000 }));
  const res = await request(`${gw.url}/r/last`);
  await res.body.dump();
  const traceId = res.headers['x-trace-id'] as string;
  t.equal(spansOf(collector.spans, traceId).length, 0, 'nothing sent yet');
  t.equal(await gw.stop('SIGTERM'), 0, 'clean exit');
  t.equal(spansOf(collector.spans, traceId).length, 2, 'server and client span exported on drain');
});
