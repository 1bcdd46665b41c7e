/** /metrics through real processes: one node-wide view summed over workers, bounded labels. */
import t from 'tap';
import { Agent, request } from 'undici';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { startUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/net.js';

/** Value of the sample line `name{labels}` in an exposition page (labels as written). */
function sample(page: string, series: string): number | null {
  const line = page.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

t.test('requests served by two workers are summed in one /metrics page', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway((port) =>
    testConfig(port, [{ name: 's', instances: [{ url: up.url }] }], [{ id: 'r', path: '/r/*', service: 's' }]),
    { env: { GATEWAY_ACCESS_LOG: 'on' } },
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const fresh = new Agent({ pipelining: 0 });
  t.teardown(() => fresh.close());

  for (let i = 0; i < 40; i++) {
    const res = await request(`${gw.url}/r/${i}`, { dispatcher: fresh, reset: true });
    await res.body.dump();
  }
  // Access-log lines are written asynchronously: wait until all 40 are in.
  await waitFor(() => gw.logs.filter((l) => l.route === 'r').length === 40, 5_000);
  const pids = new Set(gw.logs.filter((l) => l.route === 'r').map((l) => l.pid));
  t.equal(pids.size, 2, 'both workers served requests (per the access log)');

  const res = await request(`${gw.url}/__gateway/metrics`, { dispatcher: fresh, reset: true });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const page = await res.body.text();
  t.equal(sample(page, 'gateway_requests_total{route="r",method="GET",status_class="2xx"}'), 40, 'sum over both workers');
  t.ok((sample(page, 'gateway_requests_total{route="(gateway)",method="GET",status_class="2xx"}') ?? 0) >= 1, 'readiness checks counted under the reserved route');
  t.equal(sample(page, 'gateway_upstream_tries_total{service="s",outcome="2xx"}'), 40);
  t.equal(sample(page, 'gateway_request_duration_seconds_count{route="r"}'), 40);
  t.equal(sample(page, 'gateway_workers_up'), 2, 'primary metrics included');
  t.equal(sample(page, 'gateway_config_version'), 1);
  t.ok(page.includes('process_resident_memory_bytes'), 'process metrics included');
  t.ok(page.includes('nodejs_eventloop_lag_seconds'), 'event-loop lag included');
});

t.test('10 000 distinct paths do not grow the label sets', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway((port) =>
    testConfig(port, [{ name: 's', instances: [{ url: up.url }] }], [{ id: 'r', path: '/r/*', service: 's' }], { workers: 1 }),
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const agent = new Agent({ connections: 16 });
  t.teardown(() => agent.close());
  const paths = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? `/r/item-${i}?u=${i}` : `/unknown-${i}`));
  for (let i = 0; i < paths.length; i += 64) {
    await Promise.all(
      paths.slice(i, i + 64).map(async (p) => {
        const res = await request(`${gw.url}${p}`, { dispatcher: agent, method: i % 128 === 0 ? 'PROPFIND' : 'GET' });
        await res.body.dump();
      }),
    );
  }
  const page = await (await request(`${gw.url}/__gateway/metrics`, { dispatcher: agent })).body.text();
  const series = page.split('\n').filter((l) => l.startsWith('gateway_requests_total{'));
  t.ok(series.length <= 6, `${series.length} request series for 10 000 paths: ${series.join(' | ')}`);
  t.notOk(page.includes('item-'), 'no raw path in any label');
  t.ok(series.some((l) => l.includes('method="OTHER"')), 'unusual methods folded into OTHER');
  const total = series.filter((l) => !l.includes('(gateway)')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  t.equal(total, 10_000, 'every request counted');
});

t.test('counters never go backwards when a reload replaces every worker', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const config = (port: number) => testConfig(port, [{ name: 's', instances: [{ url: up.url }] }], [{ id: 'r', path: '/r/*', service: 's' }]);
  const gw = await startGateway(config);
  t.teardown(() => gw.stop('SIGKILL'));
  const fresh = new Agent({ pipelining: 0 });
  t.teardown(() => fresh.close());
  const scrape = async () => (await (await request(`${gw.url}/__gateway/metrics`, { dispatcher: fresh, reset: true })).body.text());
  const served = (page: string) => sample(page, 'gateway_requests_total{route="r",method="GET",status_class="2xx"}') ?? 0;

  for (let i = 0; i < 30; i++) await (await request(`${gw.url}/r/${i}`, { dispatcher: fresh, reset: true })).body.dump();
  t.equal(served(await scrape()), 30);
  gw.writeConfig(config(gw.port));
  gw.child.kill('SIGHUP');
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (gw.logs.some((l) => l.msg === 'reload complete')) (clearInterval(poll), resolve());
    }, 50);
  });
  for (let i = 0; i < 10; i++) await (await request(`${gw.url}/r/${i}`, { dispatcher: fresh, reset: true })).body.dump();
  const after = await scrape();
  t.equal(served(after), 40, 'the replaced workers\' counts are kept in the node total');
  t.equal(sample(after, 'gateway_config_reloads_total{result="applied"}'), 1);
});
