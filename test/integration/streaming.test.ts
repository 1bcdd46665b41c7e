/**
 * Bodies stream through the worker in both directions: a 1 GiB upload and a 1 GiB
 * download pass through a real gateway process while the worker's resident memory is
 * sampled from /proc; it must stay flat (bounded by socket and stream buffers, not by
 * body size).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { startUpstream } from '../helpers/upstream.js';

const GiB = 1024 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
// Generous for socket buffers, pools and GC slack, yet far below any buffered body.
const MAX_RSS_GROWTH = 128 * 1024 * 1024; // 1/8 of one body; measured ~60 MiB of heap/GC slack

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** A readable producing `total` bytes from one reused buffer. */
function generated(total: number): Readable {
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, CHUNK.length);
      left -= n;
      this.push(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
    },
  });
}

t.test('1 GiB upload and 1 GiB download keep the worker RSS flat', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(GiB) });
    generated(GiB).pipe(res);
  });
  t.teardown(() => up.close());
  const gw = await startGateway(
    (port) => testConfig(port, [{ name: 's', instances: [{ url: up.url }], timeouts: { bodyMs: 60_000 } }], [{ id: 'r', path: '/*', service: 's' }], {
      workers: 1,
      limits: { maxBodyBytes: 0 },
    }),
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const agent = new Agent();
  t.teardown(() => agent.close());

  const health = await request(`${gw.url}/__gateway/health`, { dispatcher: agent });
  const { pid } = (await health.body.json()) as { pid: number };
  // Warm up the proxy path so lazily allocated pools and buffers are in the baseline.
  for (let i = 0; i < 5; i++) await (await request(`${gw.url}/warm`, { dispatcher: agent, method: 'POST', body: 'x' })).body.text();
  const baseline = rssOf(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  t.teardown(() => clearInterval(sampler));

  const upload = await request(`${gw.url}/upload`, { dispatcher: agent, method: 'POST', body: generated(GiB), headers: { 'content-type': 'application/octet-stream' } });
  t.equal(upload.statusCode, 200);
  t.equal(await upload.body.text(), String(GiB), 'the upstream received every uploaded byte (chunked, unlimited body)');
  const afterUpload = peak;

  const download = await request(`${gw.url}/download`, { dispatcher: agent });
  t.equal(download.statusCode, 200);
  let received = 0;
  for await (const chunk of download.body) received += (chunk as Buffer).length;
  t.equal(received, GiB, 'the client received every downloaded byte');
  clearInterval(sampler);

  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  t.ok(afterUpload - baseline < MAX_RSS_GROWTH, `upload: worker RSS ${mb(baseline)} → peak ${mb(afterUpload)}`);
  t.ok(peak - baseline < MAX_RSS_GROWTH, `download: worker RSS ${mb(baseline)} → peak ${mb(peak)}`);
});
