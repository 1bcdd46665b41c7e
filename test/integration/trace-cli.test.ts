/**
 * `gateway trace` and `gateway traces` as a user runs them, against the Jaeger query
 * double: the whole path gateway → real Jaeger exporter → collector double → query
 * double → CLI, then the failure cases (not found, unknown service, Jaeger down, usage).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { CLI, ROOT } from '../helpers/repo.js';
import { freePort, waitFor } from '../helpers/net.js';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { startUpstream } from '../helpers/upstream.js';
import { startJaegerCollector, type CollectedSpan } from '../doubles/jaeger-collector.js';
import { startJaegerQuery } from '../doubles/jaeger-query.js';

/** Run the CLI without blocking this process (the doubles live here). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(GATEWAY_|JAEGER_|LOG_LEVEL)/.test(k)) clean[k] = v;
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...clean, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const FIXED: CollectedSpan[] = (() => {
  const tid = '00000000000000000000000000abcdef';
  const base = { traceId: tid, references: [], flags: 1, serviceName: 'svc-a', processTags: new Map() };
  return [
    { ...base, spanId: '0000000000000001', parentSpanId: '0000000000000000', operationName: 'GET root', startTime: 1_700_000_000_000_000, duration: 5000, tags: new Map<string, string | number | boolean>([['span.kind', 'server'], ['http.response.status_code', 200]]) },
    { ...base, spanId: '0000000000000002', parentSpanId: '0000000000000001', operationName: 'child-a', startTime: 1_700_000_000_001_000, duration: 1000, tags: new Map<string, string | number | boolean>([['error', true], ['error.type', 'GW_UPSTREAM_TIMEOUT']]) },
    { ...base, spanId: '0000000000000003', parentSpanId: '0000000000000001', operationName: 'child-b', startTime: 1_700_000_000_002_500, duration: 2000, tags: new Map() },
    { ...base, spanId: '0000000000000004', parentSpanId: '0000000000000003', operationName: 'grandchild', startTime: 1_700_000_000_003_000, duration: 500, tags: new Map() },
  ];
})();

t.test('trace and traces print what the gateway exported (through the real exporter)', async (t) => {
  const collector = await startJaegerCollector();
  t.teardown(() => collector.close());
  const query = await startJaegerQuery(() => collector.spans);
  t.teardown(() => query.close());
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway((port) => ({
    ...(testConfig(port, [{ name: 's', instances: [{ url: up.url }] }], [{ id: 'orders', path: '/orders/*', service: 's' }], { workers: 1 }) as object),
    telemetry: { tracing: { enabled: true, sampleRatio: 1, endpoint: collector.endpoint, flushIntervalMs: 50, serviceName: 'edge' } },
  }));
  t.teardown(() => gw.stop('SIGKILL'));
  const res = await request(`${gw.url}/orders/7`);
  await res.body.dump();
  const traceId = res.headers['x-trace-id'] as string;
  await waitFor(() => collector.spans.filter((s) => s.traceId === traceId).length === 2, 10_000);

  const shown = await cli(['trace', traceId], { JAEGER_QUERY_URL: query.url });
  t.equal(shown.code, 0, shown.stderr);
  const lines = shown.stdout.split('\n');
  t.match(lines[0], new RegExp(`^trace ${traceId}: 2 spans, \\d+\\.\\d{3} ms, started \\d{4}-`));
  t.match(lines[2], /^GET orders {2}\[edge server\] {2}\d+\.\d{3} ms {2}OK {2}\+0\.000 ms {2}span [0-9a-f]{16}$/, 'root line');
  t.ok(lines.some((l) => /^└─ GET {2}\[edge client\] .* OK /.test(l)), `client span as the child: ${shown.stdout}`);
  t.ok(lines.some((l) => /^ {8}http\.response\.status_code=200$/.test(l)), 'tags under the client span');
  t.ok(lines.some((l) => /^│ {2} {2}gateway\.route\.id=orders$/.test(l)), 'tags under the root, with the tree bar');

  const listed = await cli(['traces', '--service', 'edge', '--jaeger', query.url]);
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, /^TRACE ID +ROOT SPAN +SPANS +DURATION +START\n/);
  t.match(listed.stdout, new RegExp(`${traceId.replace(/^0+/, '').slice(-16)}.*GET orders \\[edge\\] +2 +\\d+\\.\\d{3} ms +\\d{4}-`));
  t.ok(query.requests.some((r) => r.startsWith('/api/traces?service=edge&limit=20')), 'default limit 20');
});

t.test('trace renders a deeper tree with status and offsets', async (t) => {
  const query = await startJaegerQuery(() => FIXED);
  t.teardown(() => query.close());
  const r = await cli(['trace', 'ABCDEF', '--jaeger', query.url + '/']);
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stdout,
    [
      'trace 0000000000abcdef: 4 spans, 5.000 ms, started 2023-11-14T22:13:20.000Z',
      '',
      'GET root  [svc-a server]  5.000 ms  OK  +0.000 ms  span 0000000000000001',
      '│    http.response.status_code=200',
      '├─ child-a  [svc-a]  1.000 ms  ERROR  +1.000 ms  span 0000000000000002',
      '│       error.type=GW_UPSTREAM_TIMEOUT',
      '└─ child-b  [svc-a]  2.000 ms  OK  +2.500 ms  span 0000000000000003',
      '   └─ grandchild  [svc-a]  0.500 ms  OK  +3.000 ms  span 0000000000000004',
      '',
    ].join('\n'),
  );
  const list = await cli(['traces', '--service', 'svc-a', '--limit', '5', '--jaeger', query.url]);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /0000000000abcdef +GET root \[svc-a\] +4 +5\.000 ms +2023-11-14T22:13:20\.000Z/);
});

t.test('failures: not found, unknown service, Jaeger down, bad input', async (t) => {
  const query = await startJaegerQuery(() => FIXED);
  t.teardown(() => query.close());
  const missing = await cli(['trace', '4bf92f3577b34da6a3ce929d0e0e4736', '--jaeger', query.url]);
  t.equal(missing.code, 1);
  t.equal(missing.stderr, `gateway: trace 4bf92f3577b34da6a3ce929d0e0e4736 not found in Jaeger at ${query.url} [GW_TRACE_NOT_FOUND]\n`);
  t.equal(missing.stdout, '');

  const unknown = await cli(['traces', '--service', 'nope', '--jaeger', query.url]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, `service "nope" is unknown to Jaeger at ${query.url}; known: svc-a`);

  const dead = `http://127.0.0.1:${await freePort()}`;
  for (const args of [['trace', 'abcdef'], ['traces', '--service', 'svc-a']]) {
    const down = await cli(args, { JAEGER_QUERY_URL: dead });
    t.equal(down.code, 1, args.join(' '));
    t.match(down.stderr, `cannot reach the Jaeger query API at ${dead} (ECONNREFUSED) [GW_TRACE_BACKEND_UNAVAILABLE]`);
  }

  for (const [args, message] of [
    [['trace', 'not-hex'], '"not-hex" is not a trace id'],
    [['trace', '0000'], 'is not a trace id'],
    [['trace', 'a'.repeat(33)], 'is not a trace id'],
    [['trace'], 'expected exactly one trace id'],
    [['trace', 'abc', 'def'], 'expected exactly one trace id'],
    [['traces'], '--service NAME is required'],
    [['traces', '--service', 'x', '--limit', '0'], '--limit must be an integer 1..1000'],
    [['traces', '--service', 'x', '--limit', 'ten'], '--limit must be an integer 1..1000'],
    [['trace', 'abc', '--jaeger', 'ftp://x'], 'must use http or https'],
    [['trace', 'abc', '--bogus'], 'unknown option "--bogus" (see --help)'],
  ] as const) {
    const r = await cli([...args], { JAEGER_QUERY_URL: query.url });
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message, args.join(' '));
  }
  t.equal(query.requests.filter((r) => r.includes('not-hex')).length, 0, 'a bad id never reaches Jaeger');

  const help = await cli(['trace', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: gateway trace <traceId>/);
  const main = await cli(['help']);
  t.match(main.stdout, /trace +print a trace from Jaeger/);
});
