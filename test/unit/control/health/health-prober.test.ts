/** Active health checks against real upstreams: thresholds, status sets, timeouts, only changes reported. */
import t from 'tap';
import { HealthProber, statusExpected, type HealthChange } from '../../../../src/control/health/index.js';
import type { HealthCheckConfig } from '../../../../src/ipc/index.js';
import { startUpstream } from '../../../helpers/upstream.js';
import { freePort, waitFor } from '../../../helpers/net.js';

const check = (over: Partial<HealthCheckConfig> = {}): HealthCheckConfig => ({
  enabled: true,
  path: '/healthz',
  intervalMs: 100,
  timeoutMs: 80,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  expectedStatuses: ['200-299', 304],
  ...over,
});

t.test('statusExpected reads numbers and ranges', async (t) => {
  t.ok(statusExpected(204, ['200-299']));
  t.ok(statusExpected(304, [200, 304]));
  t.notOk(statusExpected(301, ['200-299', 304]));
  t.notOk(statusExpected(500, [200]));
});

t.test('verdicts follow thresholds; only changes are reported; path and origin are probed', async (t) => {
  let code = 200;
  const up = await startUpstream((req, res) => {
    res.writeHead(code);
    res.end();
  });
  t.teardown(() => up.close());
  const changes: HealthChange[] = [];
  const prober = new HealthProber((c) => changes.push(c));
  t.teardown(() => prober.close());
  prober.setTargets([{ service: 's', urls: [`${up.url}/base`], check: check() }]);
  await waitFor(() => changes.length === 1, 5_000);
  t.match(changes[0], { service: 's', url: `${up.url}/base`, healthy: true });
  t.equal(up.seen[0]!.url, '/healthz', 'the path is probed on the instance origin');
  t.equal(up.seen[0]!.headers['user-agent'], 'gateway-health-check');
  const seen = up.seen.length;
  await waitFor(() => up.seen.length >= seen + 3, 5_000);
  t.equal(changes.length, 1, 'steady health is not re-reported');
  code = 503;
  await waitFor(() => changes.length === 2, 5_000);
  t.match(changes[1], { healthy: false, reason: /503/ });
  code = 304;
  await waitFor(() => changes.length === 3, 5_000);
  t.match(changes[2], { healthy: true, reason: /304/ });
});

t.test('refused connections and hung probes are failures', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const hung = await startUpstream(() => {});
  t.teardown(() => hung.close());
  const changes: HealthChange[] = [];
  const prober = new HealthProber((c) => changes.push(c));
  t.teardown(() => prober.close());
  prober.setTargets([{ service: 's', urls: [dead, hung.url], check: check() }]);
  await waitFor(() => changes.length === 2, 5_000);
  const byUrl = new Map(changes.map((c) => [c.url, c]));
  t.match(byUrl.get(dead), { healthy: false, reason: /ECONNREFUSED/ });
  t.match(byUrl.get(hung.url), { healthy: false });
});

t.test('new targets replace old ones; removed instances are no longer probed', async (t) => {
  const a = await startUpstream((_q, s) => s.end());
  const b = await startUpstream((_q, s) => s.end());
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const prober = new HealthProber(() => {});
  t.teardown(() => prober.close());
  prober.setTargets([{ service: 's', urls: [a.url], check: check() }]);
  await waitFor(() => a.seen.length >= 2, 5_000);
  prober.setTargets([{ service: 's', urls: [b.url], check: check() }]);
  await waitFor(() => b.seen.length >= 2, 5_000);
  const aCount = a.seen.length;
  await waitFor(() => b.seen.length >= 5, 5_000);
  t.ok(a.seen.length <= aCount + 1, 'the removed instance is not probed any more (one probe may have been in flight)');
});
