/** Resilience config: values load into the snapshot; every bad value is reported with its path and line. */
import t from 'tap';
import { loadYaml, problemsOf, snapshotOf } from './helpers.js';

const svc = (block: string) => `services:
  - name: s
    instances: [{ url: "http://127.0.0.1:1" }, { url: "http://127.0.0.1:2" }]
${block}
routes:
  - { id: r, path: /r, service: s, retryable: true }
`;

t.test('settings load with defaults filled in', async (t) => {
  const snap = snapshotOf(
    await loadYaml(
      t,
      svc(`    retry: { attempts: 2, on: [connect-failure, reset, timeout, 503], perTryTimeoutMs: 500, totalTimeoutMs: 2000 }
    outlierDetection: { consecutive5xx: 2, failureRate: { percent: 40 } }
    limits: { maxRequests: 10 }
    healthCheck: { enabled: true, path: /healthz, expectedStatuses: [200, "300-399"] }`),
    ),
  );
  const s = snap.services[0]!;
  t.same(s.retry.on, ['connect-failure', 'reset', 'timeout', 503]);
  t.same(s.retry.backoff, { baseMs: 25, maxMs: 250 }, 'defaults inside a given block');
  t.match(s.outlierDetection, { consecutive5xx: 2, consecutiveGatewayFailure: 3, failureRate: { percent: 40, minRequests: 20, windowMs: 10000 } });
  t.same(s.limits, { maxRequests: 10, maxPendingRequests: 1024, maxRetries: 3, maxTunnels: 10_000 });
  t.match(s.healthCheck, { enabled: true, path: '/healthz', intervalMs: 5000, expectedStatuses: [200, '300-399'] });
  t.equal(snap.routes[0]!.retryable, true);
});

t.test('schema problems: every one, with path and line', async (t) => {
  const problems = problemsOf(
    await loadYaml(
      t,
      svc(`    retry: { attempts: -1, on: [sometimes, 404], backof: {} }
    outlierDetection: { maxEjectionPercent: 101, failureRate: { windowMs: 10 } }
    limits: { maxRequests: -5 }
    healthCheck: { path: "//evil.example/h", expectedStatuses: ["2xx"], healthyThreshold: 0 }`),
    ),
  );
  const paths = problems.map((p) => p.path);
  for (const want of [
    'services[0].retry.attempts',
    'services[0].retry.on[0]',
    'services[0].retry.on[1]',
    'services[0].retry.backof',
    'services[0].outlierDetection.maxEjectionPercent',
    'services[0].outlierDetection.failureRate.windowMs',
    'services[0].limits.maxRequests',
    'services[0].healthCheck.path',
    'services[0].healthCheck.expectedStatuses[0]',
    'services[0].healthCheck.healthyThreshold',
  ]) {
    t.ok(paths.some((p) => p === want), `${want} reported (got ${paths.join(', ')})`);
  }
  t.ok(problems.every((p) => typeof p.line === 'number'), 'with line numbers');
  // A value that fits no form of a list item: one problem saying what fits, not one per form.
  const on = problems.filter((p) => p.path.startsWith('services[0].retry.on'));
  t.same(on.map((p) => [p.path, p.message]), [
    ['services[0].retry.on[0]', 'must be "connect-failure", "reset", "timeout" or a status code 500..599, got "sometimes"'],
    ['services[0].retry.on[1]', 'must be "connect-failure", "reset", "timeout" or a status code 500..599, got 404'],
  ]);
  t.same(problems.filter((p) => p.path === 'services[0].healthCheck.expectedStatuses[0]').map((p) => p.message), [
    'must be a status code 100..599 or a status range such as "200-399", got "2xx"',
  ]);
});

t.test('semantic problems: ordered ranges and a probe timeout shorter than its interval', async (t) => {
  const problems = problemsOf(
    await loadYaml(
      t,
      svc(`    retry: { backoff: { baseMs: 500, maxMs: 100 }, perTryTimeoutMs: 3000, totalTimeoutMs: 1000 }
    outlierDetection: { baseEjectionMs: 5000, maxEjectionMs: 1000 }
    healthCheck: { intervalMs: 1000, timeoutMs: 1000, expectedStatuses: ["399-200"] }`),
    ),
  );
  t.same(
    problems.map((p) => p.path).sort(),
    [
      'services[0].healthCheck.expectedStatuses[0]',
      'services[0].healthCheck.timeoutMs',
      'services[0].outlierDetection.maxEjectionMs',
      'services[0].retry.backoff.maxMs',
      'services[0].retry.perTryTimeoutMs',
    ],
  );
  t.ok(problems.every((p) => typeof p.line === 'number'));
});
