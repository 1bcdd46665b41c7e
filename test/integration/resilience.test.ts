/**
 * Resilience across real processes (2 workers): one worker's breaker evidence protects
 * the other (state shared through the primary), active health checks in the control
 * thread take an instance out of every worker, and /__gateway/status shows both.
 */
import t from 'tap';
import http from 'node:http';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { startUpstream, echo } from '../helpers/upstream.js';
import { sleep, waitFor } from '../helpers/net.js';

/** GET on a fresh connection, so the cluster spreads requests over both workers. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

t.test('an ejection decided by one worker is applied by every worker', async (t) => {
  const bad = await startUpstream((_req, res) => {
    res.writeHead(500);
    res.end('boom');
  });
  const good = await startUpstream(echo);
  t.teardown(() => Promise.all([bad.close(), good.close()]));
  const gw = await startGateway((port) =>
    testConfig(
      port,
      [
        {
          name: 's',
          instances: [{ url: bad.url }, { url: good.url }],
          retry: { attempts: 0 },
          outlierDetection: { consecutive5xx: 3, baseEjectionMs: 60_000 },
        },
      ],
      [{ id: 'r', path: '/*', service: 's' }],
    ),
    { env: { GATEWAY_ACCESS_LOG: 'on' } },
  );
  t.teardown(() => gw.stop());
  // Phase 1: until some worker ejects the failing instance (the primary logs its decision).
  let sent = 0;
  while (!gw.logs.some((l) => l.msg === 'upstream instance ejected (outlier detection)') && sent < 60) {
    await get(`${gw.url}/x${sent++}`);
  }
  const atEjection = bad.seen.length;
  t.ok(atEjection >= 3, `ejected after ${atEjection} failures`);
  // The bound: every worker applies it within about a second.
  await sleep(1000);
  const from = gw.logs.length;
  for (let i = 0; i < 40; i++) t.equal((await get(`${gw.url}/y${i}`)).status, 200, `request ${i} avoided the ejected instance`);
  t.equal(bad.seen.length, atEjection, 'no worker sent anything more to the ejected instance');
  await waitFor(() => gw.logs.slice(from).filter((l) => l.msg === 'request').length >= 40, 5_000);
  const slots = new Set(gw.logs.slice(from).filter((l) => l.msg === 'request').map((l) => l.slot));
  t.equal(slots.size, 2, 'both workers served in the second phase');
  const st = await get(`${gw.url}/__gateway/status`);
  t.equal(st.status, 200);
  const doc = JSON.parse(st.body);
  t.match(doc.services[0], { name: 's', available: 1, total: 2, panic: false });
  t.match(doc.services[0].instances[0], { url: bad.url, breaker: 'open', ejections: 1, health: 'unchecked' });
  t.match(doc.worker.services[0].endpoints[0], { url: bad.url, breaker: 'open' }, 'the answering worker applied it too');
  t.match(doc.rateLimits, { buckets: 0, maxKeys: 100_000 });
  t.match(doc.workers, { up: 2, wanted: 2 });
  const page = (await get(`${gw.url}/__gateway/metrics`)).body;
  t.match(page, /^gateway_upstream_instances\{service="s",state="ejected"\} 1$/m, 'breaker state as a gauge');
  t.match(page, /^gateway_upstream_instances\{service="s",state="available"\} 1$/m);
  t.match(page, /^gateway_outlier_events_total\{service="s",event="eject"\} [12]$/m, 'ejections counted by the workers that decided them');
});

t.test('active health checks (control thread) take an instance out and bring it back', async (t) => {
  let healthy = true;
  const flaky = await startUpstream((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(healthy ? 200 : 503);
      res.end();
    } else echo(req, res);
  });
  const other = await startUpstream(echo);
  t.teardown(() => Promise.all([flaky.close(), other.close()]));
  const gw = await startGateway((port) =>
    testConfig(
      port,
      [
        {
          name: 's',
          instances: [{ url: flaky.url }, { url: other.url }],
          healthCheck: { enabled: true, path: '/healthz', intervalMs: 100, timeoutMs: 80, unhealthyThreshold: 2, healthyThreshold: 2 },
        },
      ],
      [{ id: 'r', path: '/*', service: 's' }],
    ),
  );
  t.teardown(() => gw.stop());
  const probes = () => flaky.seen.filter((s) => s.url === '/healthz');
  await waitFor(() => probes().length >= 3, 10_000);
  healthy = false;
  await waitFor(async () => {
    const doc = JSON.parse((await get(`${gw.url}/__gateway/status`)).body);
    return doc.services[0].instances[0].health === 'unhealthy';
  }, 10_000);
  const served = flaky.seen.filter((s) => s.url !== '/healthz').length;
  for (let i = 0; i < 20; i++) t.equal((await get(`${gw.url}/y${i}`)).status, 200);
  t.equal(flaky.seen.filter((s) => s.url !== '/healthz').length, served, 'no traffic to the unhealthy instance from either worker');
  healthy = true;
  await waitFor(async () => {
    const doc = JSON.parse((await get(`${gw.url}/__gateway/status`)).body);
    return doc.services[0].instances[0].health === 'healthy';
  }, 10_000);
  for (let i = 0; i < 20; i++) await get(`${gw.url}/z${i}`);
  t.ok(flaky.seen.filter((s) => s.url !== '/healthz').length > served, 'back in rotation');
  // Probes run once per node: two workers must not double them.
  const p0 = probes().length;
  await new Promise((r) => setTimeout(r, 1000));
  const perSecond = probes().length - p0;
  t.ok(perSecond <= 13, `about 10 probes per second for one node, not 20 (${perSecond})`);
  t.ok(gw.logs.some((l) => l.msg === 'upstream instance unhealthy' && l.role === 'primary'), 'primary logged the change');
  // The control thread's own metrics are part of the node page.
  const page = (await get(`${gw.url}/__gateway/metrics`)).body;
  t.match(page, /^gateway_control_config_loads_total\{result="valid"\} 1$/m, 'one valid config load, counted by the control thread');
  const ok = Number(/^gateway_health_checks_total\{service="s",result="success"\} (\d+)$/m.exec(page)?.[1] ?? 0);
  const failed = Number(/^gateway_health_checks_total\{service="s",result="failure"\} (\d+)$/m.exec(page)?.[1] ?? 0);
  t.ok(ok > 0 && failed >= 2, `probe results counted (${ok} success, ${failed} failure)`);
  t.match(page, /^gateway_health_check_transitions_total\{service="s",to="unhealthy"\} 1$/m);
  t.match(page, /^gateway_control_thread_restarts_total 0$/m);
});
