/** The `telemetry.tracing` section: defaults, the snapshot, env interpolation and every bad value reported. */
import t from 'tap';
import { TRACING_OFF } from '../../../helpers/snapshot.js';
import { brief, loadYaml, problemsOf, snapshotOf, withRoutes } from './helpers.js';

const ROUTE = '  - { id: r, path: /r, service: svc }';

t.test('without a telemetry section tracing is off with documented defaults', async (t) => {
  const snap = snapshotOf(await loadYaml(t, withRoutes(ROUTE)));
  t.same(snap.telemetry.tracing, {
    enabled: false,
    serviceName: 'gateway',
    sampleRatio: 0.01,
    exporter: 'jaeger',
    endpoint: 'http://127.0.0.1:14268/api/traces',
    responseHeader: 'x-trace-id',
    queueSize: 2048,
    batchSize: 100,
    flushIntervalMs: 1000,
    exportTimeoutMs: 5000,
  });
  t.same(snap.telemetry.tracing, TRACING_OFF, 'the defaults hand-built test snapshots use');
  t.ok(Object.isFrozen(snap.telemetry.tracing), 'frozen like the rest of the snapshot');
});

t.test('set values (also from ${VAR}) reach the snapshot typed', async (t) => {
  const yaml = withRoutes(
    ROUTE,
    `telemetry:
  tracing:
    enabled: \${TRACING:-false}
    sampleRatio: \${RATIO:-0.5}
    endpoint: \${JAEGER_ENDPOINT:-http://127.0.0.1:14268/api/traces}
    serviceName: edge-1
    responseHeader: null`,
  );
  const snap = snapshotOf(await loadYaml(t, yaml, { TRACING: 'true', RATIO: '1', JAEGER_ENDPOINT: 'https://jaeger.internal:14268/api/traces' }));
  t.equal(snap.telemetry.tracing.enabled, true);
  t.equal(snap.telemetry.tracing.sampleRatio, 1);
  t.equal(snap.telemetry.tracing.endpoint, 'https://jaeger.internal:14268/api/traces');
  t.equal(snap.telemetry.tracing.serviceName, 'edge-1');
  t.equal(snap.telemetry.tracing.responseHeader, null);
});

t.test('every bad tracing value is reported at its line, all at once', async (t) => {
  const yaml = withRoutes(
    ROUTE,
    `telemetry:
  tracing:
    enabled: yes-please
    sampleRatio: 1.5
    exporter: zipkin
    serviceName: "bad name"
    responseHeader: "X Trace"
    queueSize: 0
    batchSize: 500
    flushIntervalMs: 1
    samplingRatio: 0.1`,
  );
  const problems = brief(problemsOf(await loadYaml(t, yaml)));
  const at = (path: string) => problems.find((p) => p.path === path);
  t.match(at('telemetry.tracing.enabled'), { line: 9, message: /true or false/ });
  t.match(at('telemetry.tracing.sampleRatio'), { line: 10, message: 'must be <= 1, got 1.5' });
  t.match(at('telemetry.tracing.exporter'), { line: 11, message: /must be one of "jaeger"/ });
  t.match(at('telemetry.tracing.serviceName'), { line: 12, message: /1-64 letters/ });
  t.ok(problems.some((p) => p.path === 'telemetry.tracing.responseHeader'), 'bad header name');
  t.match(at('telemetry.tracing.queueSize'), { line: 14 });
  t.match(at('telemetry.tracing.batchSize'), { message: 'must be <= 100, got 500' });
  t.match(at('telemetry.tracing.flushIntervalMs'), { line: 16 });
  t.match(at('telemetry.tracing.samplingRatio'), { message: 'unknown key "samplingRatio"; did you mean "sampleRatio"?' });
});

t.test('a bad endpoint is a problem even while tracing is off', async (t) => {
  for (const [endpoint, message] of [
    ['not a url', /must be an http\(s\) URL/],
    ['udp://127.0.0.1:6831', 'must use http or https, got "udp"'],
    ['http://user:pw@jaeger:14268/api/traces', 'must not contain credentials'],
    ['http://jaeger:14268/api/traces?x=1', 'must not have a query or fragment'],
  ] as const) {
    const problems = brief(problemsOf(await loadYaml(t, withRoutes(ROUTE, `telemetry:\n  tracing:\n    endpoint: "${endpoint}"`))));
    t.equal(problems.length, 1, endpoint);
    t.match(problems[0], { path: 'telemetry.tracing.endpoint', message }, endpoint);
  }
});
