import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../../../src/control/config/index.js';
import { brief, fixture, loadYaml, problemsOf, ROOT, snapshotOf, withRoutes } from './helpers.js';

const shipped = (name: string): string => join(ROOT, 'config', name);

t.test('the shipped configs load', async (t) => {
  for (const name of ['gateway.yaml', 'gateway.dev.yaml']) {
    const snap = snapshotOf(await loadConfig(shipped(name), { env: {}, version: 1 }));
    t.ok(snap.routes.length > 0, `${name} has routes`);
    t.ok(snap.services.every((s) => s.instances.every((i) => /^https?:\/\//.test(i.url))), `${name} instance urls`);
  }
});

t.test('gateway.prod.yaml needs APP_UPSTREAM_URL and names it when missing', async (t) => {
  const file = shipped('gateway.prod.yaml');
  const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('${APP_UPSTREAM_URL}')) + 1;
  const missing = problemsOf(await loadConfig(file, { env: {}, version: 1 }));
  t.equal(missing.length, 1, 'one problem, not echoes of the unresolved url');
  t.match(missing[0], { file, line, path: /^services\[\d+\]\.instances\[\d+\]\.url$/, message: /APP_UPSTREAM_URL is not set/ });

  const snap = snapshotOf(await loadConfig(file, { env: { APP_UPSTREAM_URL: 'http://10.0.0.5:8080/' }, version: 7 }));
  t.equal(snap.version, 7);
  t.equal(snap.services[0]!.instances[0]!.url, 'http://10.0.0.5:8080', 'trailing slash removed');
});

t.test('defaults are filled in from the schema', async (t) => {
  const snap = snapshotOf(await loadYaml(t, withRoutes('  - { id: r, path: /x, service: svc }')));
  t.same(snap.server, {
    host: '0.0.0.0',
    port: 8080,
    workers: 0,
    reservedPrefix: '/__gateway',
    trustedProxies: [],
    adminAllow: ['127.0.0.1/32', '::1/128'],
    viaName: 'gateway',
    limits: { maxBodyBytes: 10485760, maxUrlBytes: 8192, maxHeaderBytes: 16384, maxHeaderCount: 100, maxConnectionsPerIp: 0 },
    timeouts: { headersMs: 10000, requestMs: 300000, keepAliveMs: 5000, drainMs: 30000 },
    paths: { mergeSlashes: true, encodedSlash: 'reject', semicolons: 'keep' },
    // Hardening defaults (pinned in detail in security-checks.test.ts).
    methods: snap.server.methods,
    securityHeaders: snap.server.securityHeaders,
  });
  t.same(snap.services[0], {
    name: 'svc',
    loadBalancer: 'round-robin',
    instances: [{ url: 'http://127.0.0.1:9000', weight: 1 }],
    timeouts: { connectMs: 5000, headersMs: 30000, bodyMs: 60000, tunnelIdleMs: 300000 },
    pool: { connections: 128, pipelining: 1, keepAliveTimeoutMs: 4000 },
    rateLimits: [],
    retry: {
      attempts: 1,
      on: ['connect-failure'],
      perTryTimeoutMs: 0,
      totalTimeoutMs: 0,
      backoff: { baseMs: 25, maxMs: 250 },
      budget: { percent: 20, minPerSecond: 3 },
    },
    outlierDetection: {
      enabled: true,
      consecutive5xx: 5,
      consecutiveGatewayFailure: 3,
      failureRate: { percent: 0, minRequests: 20, windowMs: 10000 },
      baseEjectionMs: 30000,
      maxEjectionMs: 300000,
      maxEjectionPercent: 50,
      panicThresholdPercent: 50,
    },
    limits: { maxRequests: 1024, maxPendingRequests: 1024, maxRetries: 3, maxTunnels: 10000 },
    healthCheck: {
      enabled: false,
      path: '/health',
      intervalMs: 5000,
      timeoutMs: 2000,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      expectedStatuses: ['200-399'],
    },
  });
  t.same(snap.routes[0], {
    id: 'r',
    paths: ['/x'],
    methods: [],
    hosts: [],
    priority: 0,
    service: 'svc',
    stripPrefix: false,
    rewrite: null,
    preserveHost: false,
    retryable: false,
    websocket: false,
    rateLimitHeaders: 'both',
    rateLimits: [],
  });
});

t.test('the snapshot is deeply frozen, exactly the ipc fields, routes without "path"', async (t) => {
  const file = fixture('full.yaml');
  const snap = snapshotOf(await loadConfig(file, { env: {}, version: 3 }));
  t.ok(isAbsolute(snap.source) && snap.source === file);
  t.equal(new Date(snap.loadedAt).toISOString(), snap.loadedAt, 'loadedAt is an ISO timestamp');
  for (const v of [snap, snap.server, snap.server.limits, snap.server.trustedProxies, snap.services[0]!.instances[0]]) {
    t.ok(Object.isFrozen(v));
  }
  t.ok(Object.isFrozen(snap.routes[0]!.paths));
  t.throws(() => ((snap.routes as unknown as unknown[]).length = 0));
  t.same(Object.keys(snap).sort(), ['loadedAt', 'routes', 'server', 'services', 'source', 'telemetry', 'version']);
  const routeKeys = ['hosts', 'id', 'methods', 'paths', 'preserveHost', 'priority', 'rateLimitHeaders', 'rateLimits', 'retryable', 'rewrite', 'service', 'stripPrefix', 'websocket'];
  for (const r of snap.routes) t.same(Object.keys(r).sort(), routeKeys, r.id);
  t.same(snap.routes[1]!.paths, ['/assets/*'], '`path` normalized to `paths`');
  t.same(Object.keys(snap.services[0]!).sort(), ['healthCheck', 'instances', 'limits', 'loadBalancer', 'name', 'outlierDetection', 'pool', 'rateLimits', 'retry', 'timeouts']);
  t.equal(snap.server.limits.maxBodyBytes, 0, '0 = unlimited is accepted');
  t.equal(snap.services[0]!.instances[0]!.url, 'http://users-a.internal/base', 'url normalized');
  t.same(snap.routes[2]!.paths, ['/__gateway/*'], 'the default prefix is free when reservedPrefix moves');
});

t.test('an unreadable file is one problem with the OS reason', async (t) => {
  const dir = t.testdir({ sub: {} });
  const missing = join(dir, 'nope.yaml');
  t.same(problemsOf(await loadConfig(missing, { env: {}, version: 1 })), [
    { file: missing, path: '', message: `cannot read: ENOENT: no such file or directory, open '${missing}'` },
  ]);
  const [dirProblem] = problemsOf(await loadConfig(join(dir, 'sub'), { env: {}, version: 1 }));
  t.match(dirProblem, { path: '', message: /^cannot read: EISDIR/ });
});

t.test('YAML syntax errors are reported with their lines, and nothing else', async (t) => {
  const file = fixture('syntax-error.yaml');
  const problems = problemsOf(await loadConfig(file, { env: {}, version: 1 }));
  t.ok(problems.every((p) => p.file === file && p.path === ''));
  t.match(problems[0], { line: 3, message: /All mapping items must start at the same column \(column 1\)/ });
  t.ok(problems.some((p) => p.line === 7 && /Tabs are not allowed/.test(p.message)), 'the second error too');
  t.notOk(problems.some((p) => p.message.includes('\n')), 'one-line messages');
});

t.test('YAML merge keys and x- anchor holders work (the Compose pattern); other unknown top-level keys do not', async (t) => {
  const yaml = `x-service-defaults: &defaults
  loadBalancer: p2c
  retry: { attempts: 2 }
services:
  - <<: *defaults
    name: a
    instances: [{ url: "http://127.0.0.1:9001" }]
  - <<: *defaults
    name: b
    loadBalancer: random
    instances: [{ url: "http://127.0.0.1:9002" }]
routes:
  - { id: r, path: /x, service: a }
`;
  const snap = snapshotOf(await loadYaml(t, yaml));
  t.same(snap.services.map((s) => [s.name, s.loadBalancer, s.retry.attempts]), [['a', 'p2c', 2], ['b', 'random', 2]], 'merged, and a key of its own wins');
  t.notOk('x-service-defaults' in (snap as object), 'the anchor holder is not part of the snapshot');
  // Big configs use one anchor many times: 150 services merging the same defaults load.
  const many = `x-d: &d { loadBalancer: p2c }\nservices:\n${Array.from({ length: 150 }, (_, i) => `  - { <<: *d, name: s${i}, instances: [{ url: "http://127.0.0.1:${9000 + i}" }] }`).join('\n')}\nroutes: []\n`;
  t.equal(snapshotOf(await loadYaml(t, many)).services.length, 150);
  const typo = brief(problemsOf(await loadYaml(t, yaml.replace('x-service-defaults', 'service-defaults'))));
  t.match(typo, [{ path: 'service-defaults', message: /unknown key "service-defaults"/ }]);
});

t.test('duplicate keys are errors', async (t) => {
  t.match(problemsOf(await loadConfig(fixture('duplicate-key.yaml'), { env: {}, version: 1 })), [
    { line: 4, path: '', message: /Map keys must be unique/ },
  ]);
});

t.test('a config with many mistakes reports all of them, with paths and lines', async (t) => {
  const file = fixture('many-errors.yaml');
  const problems = problemsOf(await loadConfig(file, { env: {}, version: 1 }));
  t.ok(problems.every((p) => p.file === file));
  t.match(brief(problems), [
    { line: 3, path: 'server.port', message: 'must be <= 65535, got 70000' },
    { line: 4, path: 'server.workers', message: 'must be an integer, got "two"' },
    { line: 6, path: 'server.limits.maxBodyBytes', message: 'must be >= 0, got -1' },
    { line: 8, path: 'server.paths.encodedSlash', message: 'must be one of "reject", "keep", got "drop"' },
    { line: 9, path: 'server.colour', message: 'unknown key "colour"' },
    { line: 13, path: 'services[0].loadBalancer', message: /one of "round-robin", .*"p2c", got "fastest"/ },
    { line: 14, path: 'services[0].instances', message: 'must not be empty' },
    { line: 15, path: 'services[1].name', message: /^must be 1-64 letters.*, got "bad name"$/ },
    { line: 18, path: 'services[1].instances[0].weight', message: 'must be >= 1, got 0' },
    { line: 21, path: 'routes[0].service', message: 'is required' },
    { line: 23, path: 'routes[0].servce', message: 'unknown key "servce"; did you mean "service"?' },
    { line: 27, path: 'routes[1].methods[1]', message: /upper-case method.*got "get"/ },
    { line: 27, path: 'routes[1].methods[2]', message: '"GET" repeats item 0' },
    { line: 28, path: 'routes[1].priority', message: 'must be an integer, got "high"' },
  ]);
  t.equal(problems.length, 14, 'no duplicates, nothing missing');
});

t.test('cross-section checks run beside schema problems, except inside an item the schema refused', async (t) => {
  // Route r's unknown service could be an echo of its broken shape: not reported beside it.
  let problems = problemsOf(await loadYaml(t, withRoutes('  - { id: r, path: /x, service: nope, priority: x }')));
  t.match(brief(problems), [{ path: 'routes[0].priority' }]);
  t.equal(problems.length, 1);
  // Another route's unknown service is its own problem: one round lists both.
  problems = problemsOf(await loadYaml(t, withRoutes('  - { id: r, path: /x, service: svc, priority: x }\n  - { id: s, path: /y, service: nope }')));
  t.match(brief(problems), [{ path: 'routes[0].priority' }, { path: 'routes[1].service', message: /unknown service "nope"/ }]);
  t.equal(problems.length, 2);
  // A document the cross-section checks cannot walk at all: the schema's problems stand alone.
  problems = problemsOf(await loadYaml(t, 'server: { port: 99999 }\nservices: 7\nroutes: [{ id: r, path: /x, service: nope }]\n'));
  t.ok(problems.some((p) => p.path === 'server.port'), 'the bad port');
  t.ok(problems.some((p) => p.path === 'services'), 'services is not a list');
});

t.test('problems are sorted by line, then path', async (t) => {
  const yaml = withRoutes(`  - { id: b, path: /x, service: gone }
  - { id: a, path: /y, service: gone }`);
  const problems = problemsOf(await loadYaml(t, yaml));
  t.same(
    problems.map((p) => `${p.line} ${p.path}`),
    ['6 routes[0].service', '7 routes[1].service'],
  );
});

t.test('env overrides set server.host, port and workers', async (t) => {
  const yaml = withRoutes('  - { id: r, path: /x, service: svc }', 'server: { port: 1 }');
  const env = { GATEWAY_HOST: '::', GATEWAY_PORT: '9090', GATEWAY_WORKERS: '4' };
  const snap = snapshotOf(await loadYaml(t, yaml, env));
  t.same([snap.server.host, snap.server.port, snap.server.workers], ['::', 9090, 4]);
  const unset = snapshotOf(await loadYaml(t, yaml, { GATEWAY_PORT: '', GATEWAY_HOST: undefined }));
  t.same([unset.server.host, unset.server.port], ['0.0.0.0', 1], 'empty or undefined = not set');
  const noServer = snapshotOf(await loadYaml(t, withRoutes('  - { id: r, path: /x, service: svc }'), { GATEWAY_PORT: '81' }));
  t.equal(noServer.server.port, 81, 'works without a server section');
});

t.test('a bad override is a problem naming the variable', async (t) => {
  const yaml = withRoutes('  - { id: r, path: /x, service: svc }');
  t.same(brief(problemsOf(await loadYaml(t, yaml, { GATEWAY_PORT: '80a', GATEWAY_WORKERS: '1.5' }))), [
    { path: 'env GATEWAY_PORT', message: 'must be an integer, got "80a"' },
    { path: 'env GATEWAY_WORKERS', message: 'must be an integer, got "1.5"' },
  ]);
  // In range is the schema's job; the YAML line would blame the wrong place, so none.
  t.same(brief(problemsOf(await loadYaml(t, yaml + 'server: { port: 1 }', { GATEWAY_PORT: '70000' }))), [
    { path: 'server.port', message: 'must be <= 65535, got 70000 (set by GATEWAY_PORT)' },
  ]);
});

t.test('an empty document or a non-mapping root is a schema problem, not a crash', async (t) => {
  t.match(brief(problemsOf(await loadYaml(t, '# nothing\n'))), [{ path: '', message: 'must be a mapping, got null' }]);
  t.match(brief(problemsOf(await loadYaml(t, '- a\n- b\n'))), [{ line: 1, path: '', message: 'must be a mapping, got a list' }]);
  t.match(brief(problemsOf(await loadYaml(t, 'services: []\n'))), [{ line: 1, path: 'routes', message: 'is required' }]);
});

t.test('alias bombs are refused, not expanded', async (t) => {
  let yaml = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 8; i++) yaml += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
  const problems = problemsOf(await loadYaml(t, yaml));
  t.match(problems, [{ path: '', message: /alias/i }]);
});
