/** Node-wide rate limits across worker processes: the buckets live in the primary. */
import t from 'tap';
import { Agent, request } from 'undici';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { startUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/net.js';

t.test('10/min across 2 workers allows exactly 10, not 10 per worker', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway(
    (port) => testConfig(port, [{ name: 's', instances: [{ url: up.url }] }], [{ id: 'r', path: '/r', service: 's', rateLimits: [{ requests: 10, per: 'm', key: 'ip' }] }]),
    { env: { GATEWAY_ACCESS_LOG: 'on' } },
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const fresh = new Agent({ pipelining: 0 });
  t.teardown(() => fresh.close());
  const counts = new Map<number, number>();
  for (let i = 0; i < 40; i++) {
    const res = await request(`${gw.url}/r`, { dispatcher: fresh, reset: true });
    await res.body.dump();
    counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
  }
  t.equal(counts.get(200), 10);
  t.equal(counts.get(429), 30);
  t.equal(up.seen.length, 10);
  const page = await (await request(`${gw.url}/__gateway/metrics`, { dispatcher: fresh, reset: true })).body.text();
  t.match(page, /^gateway_rate_limit_decisions_total\{route="r",decision="allowed"\} 10$/m, 'decisions counted node-wide');
  t.match(page, /^gateway_rate_limit_decisions_total\{route="r",decision="limited"\} 30$/m);
  // The 6 s refill wait outlasts the test: after its first refusal each worker answers the
  // rest itself, and the verdict (and the count of 200s above) did not change.
  const local = Number(/^gateway_rate_limit_local_refusals_total (\d+)$/m.exec(page)?.[1]);
  t.ok(local >= 28 && local <= 29, `refusals answered without asking the primary: ${local} (30 refused, 2 workers)`);
  // Access-log lines are written asynchronously: wait until all 40 are in.
  await waitFor(() => gw.logs.filter((l) => l.route === 'r').length === 40, 5_000);
  const pids = new Set(gw.logs.filter((l) => l.route === 'r').map((l) => l.pid));
  t.equal(pids.size, 2, 'both workers answered');
});

// 200/s rather than 1000/s: CI runs test files two at a time on 2 cores (next to e.g. the
// 1 GiB streaming test), where this test's own load generator was seen offering as little
// as 580 req/s. 1000/s is measured by `npm run bench` (bench/rate-limit-accuracy.mjs).
t.test('200/s across 2 workers under overload stays within 5 % of burst + rate × time', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway((port) =>
    testConfig(port, [{ name: 's', instances: [{ url: up.url }] }], [{ id: 'r', path: '/r', service: 's', rateLimits: [{ requests: 200, per: 's', burst: 600, key: 'header:x-run' }] }]),
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const agent = new Agent({ connections: 32 });
  t.teardown(() => agent.close());
  // Drive 32 concurrent clients for `ms`, charging the bucket of header value `run`.
  const drive = async (run: string, ms: number) => {
    let ok = 0;
    let no = 0;
    const deadline = Date.now() + ms;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (Date.now() < deadline) {
          const res = await request(`${gw.url}/r`, { dispatcher: agent, headers: { 'x-run': run } });
          await res.body.dump();
          if (res.statusCode === 200) ok++;
          else if (res.statusCode === 429) no++;
        }
      }),
    );
    return { ok, no };
  };
  // Warm up (connections, JIT) on another bucket: a cold start offers less than the
  // limit for a while, and tokens refused to nobody are not a limiter error.
  const warm = await drive('warm-up', 1_500);
  const seenBefore = up.seen.length;
  t.equal(seenBefore, warm.ok);
  const started = Date.now();
  const { ok: allowed, no: refused } = await drive('measured', 3_000);
  const elapsed = (Date.now() - started) / 1000;
  // A full bucket (burst 600) at the start, then the refill. The burst of three seconds of
  // refill also absorbs stalls of the load generator (CI runs two test files at a time on
  // 2 cores): while the bucket is below its cap no token is lost, so the count measures
  // the limiter, not the load generator.
  const ceiling = 600 + 200 * elapsed;
  t.ok(refused > allowed / 10, `offered load exceeded the limit (${allowed} allowed, ${refused} refused)`);
  t.ok(allowed <= ceiling * 1.05, `allowed ${allowed} ≤ ${ceiling.toFixed(0)} + 5 %`);
  t.ok(allowed >= ceiling * 0.95, `allowed ${allowed} ≥ ${ceiling.toFixed(0)} − 5 %`);
  t.equal(up.seen.length - seenBefore, allowed, 'only admitted requests reached the upstream');
});
