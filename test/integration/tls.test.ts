/**
 * TLS termination through the real process model (two workers): HTTPS proxied with
 * `X-Forwarded-Proto: https` and HSTS, request bodies streamed, sessions resumed on
 * whichever worker the next connection reaches, wss tunnels, failed handshakes counted,
 * certificates rotated by SIGHUP (and a bad one refused while the old one keeps serving).
 */
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { Agent, request } from 'undici';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { ROOT } from '../helpers/repo.js';
import { echo, startUpstream } from '../helpers/upstream.js';
import { openWs, startWsUpstream, textFrame } from '../helpers/websocket.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'tls');
const CA = readFileSync(join(FIXTURES, 'ca.pem'), 'utf8');

interface Seen {
  readonly cn: string | undefined;
  readonly reused: boolean;
  readonly session: Buffer | null;
  /** The whole answer to `GET path`. */
  readonly answer: string;
}

/** One TLS connection: handshake, `GET path` (or the raw request text `raw`), read to the close. */
function over(port: number, path: string, opts: ConnectionOptions = {}, raw: string | null = null): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ca: CA, checkServerIdentity: () => undefined, ...opts }, () => {
      const cn = socket.getPeerCertificate().subject?.CN as string | undefined;
      const reused = socket.isSessionReused();
      let session: Buffer | null = null;
      let answer = '';
      socket.on('session', (s: Buffer) => (session = s));
      socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
      socket.on('close', () => resolve({ cn, reused, session, answer }));
      socket.write(raw ?? `GET ${path} HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n`);
    });
    socket.on('error', reject);
  });
}

t.test('HTTPS through two workers: forwarding, HSTS, bodies, resumption on any worker, wss, refused handshakes', async (t) => {
  const up = await startUpstream();
  const ws = await startWsUpstream();
  t.teardown(() => Promise.all([up.close(), ws.close()]));
  const gw = await startGateway(
    (port) =>
      testConfig(
        port,
        [
          { name: 'echo', instances: [{ url: up.url }] },
          { name: 'ws', instances: [{ url: ws.url }] },
        ],
        [
          { id: 'echo', paths: ['/echo/*'], service: 'echo' },
          { id: 'live', paths: ['/live'], service: 'ws', websocket: true },
        ],
        {
          securityHeaders: { hsts: { maxAgeSeconds: 600 } },
          tls: {
            certificates: [
              { certFile: join(FIXTURES, 'localhost.pem'), keyFile: join(FIXTURES, 'localhost-key.pem') },
              { certFile: join(FIXTURES, 'api-fullchain.pem'), keyFile: join(FIXTURES, 'api-key.pem') },
            ],
            handshakeTimeoutMs: 500,
          },
        },
      ),
    { tlsCa: CA },
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const agent = new Agent({ connect: { ca: CA } });
  t.teardown(() => agent.close());

  const res = await request(`${gw.url}/echo/a?b=1`, { dispatcher: agent, method: 'POST', body: Buffer.alloc(1 << 20, 7) });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['strict-transport-security'], 'max-age=600', 'HSTS on the gateway\'s own HTTPS');
  const echoed = (await res.body.json()) as { url: string; bodyBytes: number; headers: Record<string, string> };
  t.equal(echoed.url, '/echo/a?b=1');
  t.equal(echoed.bodyBytes, 1 << 20, 'a 1 MiB body streamed through TLS');
  t.equal(echoed.headers['x-forwarded-proto'], 'https', 'the upstream hears the client came over HTTPS');

  const sni = await over(gw.port, '/__gateway/health', { servername: 'api.example.test' });
  t.equal(sni.cn, 'api', 'SNI picks the certificate for the name');
  t.match(sni.answer, /^HTTP\/1\.1 200 /);

  // Node's cluster hands connections to the workers in turn: the resumed ones land on both.
  const first = await over(gw.port, '/__gateway/health', { servername: 'localhost' });
  t.equal(first.reused, false);
  const slots = new Set<number>();
  for (let i = 0; i < 6; i++) {
    const again = await over(gw.port, '/__gateway/health', { servername: 'localhost', session: first.session! });
    t.equal(again.reused, true, `connection ${i + 2} resumed the first one's session`);
    slots.add((JSON.parse(again.answer.slice(again.answer.indexOf('\r\n\r\n') + 4)) as { slot: number }).slot);
  }
  t.same([...slots].sort(), [0, 1], 'sessions resumed on both workers');

  const c = await openWs(gw.port, '/live', {}, Buffer.alloc(0), { ca: CA, servername: 'localhost' });
  t.equal(c.status, 101, 'wss: the handshake is tunnelled over TLS');
  c.socket.write(textFrame('over tls', true));
  t.same(await c.next(), ['echo: over tls']);
  c.socket.end();
  await c.closed;

  // An Upgrade the gateway does not tunnel is parsed again as a plain request, on the same
  // TLS connection, and what was pipelined behind it is served after it.
  const replayed = await over(gw.port, '', {}, 'GET /echo/h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nGET /echo/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.equal(replayed.answer.match(/HTTP\/1\.1 200 /g)?.length, 2, 'both requests answered 200');
  t.same(up.seen.slice(-2).map((r) => [r.url, r.headers.upgrade]), [['/echo/h2c', undefined], ['/echo/next', undefined]], 'served as plain requests, in order');

  // TCP probes (a load balancer's health check: connect, close) are no failed handshakes.
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve) => {
      const s = netConnect(gw.port, '127.0.0.1', () => s.end());
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
  }
  await sleep(200);

  // Plain HTTP on the TLS port, and a connection that never says hello: closed, no answer.
  const plain = await new Promise<string>((resolve) => {
    const s = netConnect(gw.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
  t.notMatch(plain, /HTTP\/1\.1/, 'no plain-text answer on the TLS port');
  const idle = await new Promise<number>((resolve) => {
    const s = netConnect(gw.port, '127.0.0.1');
    let bytes = 0;
    s.on('data', (d) => (bytes += d.length));
    s.on('error', () => {});
    s.on('close', () => resolve(bytes));
  });
  t.equal(idle, 0, 'a connection without a ClientHello is closed at the handshake deadline');
  const page = await waitFor(async () => {
    const m = await request(`${gw.url}/__gateway/metrics`, { dispatcher: agent });
    const text = await m.body.text();
    const n = Number(/gateway_connections_rejected_total\{reason="tls_handshake"\} (\d+)/.exec(text)?.[1] ?? 0);
    return n >= 2 ? n : 0;
  }, 5_000, 100);
  t.equal(page, 2, 'the two failed handshakes counted, the probes not');
  const metrics = await (await request(`${gw.url}/__gateway/metrics`, { dispatcher: agent })).body.text();
  const expiry = (file: string) => Date.parse(new X509Certificate(readFileSync(join(FIXTURES, file))).validTo) / 1000;
  t.match(metrics, `gateway_tls_certificate_not_after_seconds{file="${join(FIXTURES, 'localhost.pem')}",names="localhost,gateway.test"} ${expiry('localhost.pem')}\n`, 'certificate expiry exported');
  t.match(metrics, `gateway_tls_certificate_not_after_seconds{file="${join(FIXTURES, 'api-fullchain.pem')}",names="api.example.test"} ${expiry('api.pem')}\n`);
  t.equal(await gw.stop('SIGTERM'), 0, 'drains and exits 0');
});

t.test('SIGHUP rotates the certificate; a bad one is refused and the running one keeps serving', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const install = (name: string) => {
    copyFileSync(join(FIXTURES, `${name}.pem`), join(dir, 'served.pem'));
    copyFileSync(join(FIXTURES, `${name}-key.pem`), join(dir, 'served-key.pem'));
  };
  install('api');
  const gw = await startGateway(
    (port) =>
      testConfig(port, [{ name: 'none', instances: [{ url: 'http://127.0.0.1:9' }] }], [{ id: 'r', paths: ['/r'], service: 'none' }], {
        tls: { certificates: [{ certFile: join(dir, 'served.pem'), keyFile: join(dir, 'served-key.pem') }] },
      }),
    { tlsCa: CA },
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const before = await over(gw.port, '/__gateway/health', { servername: 'localhost' });
  t.equal(before.cn, 'api');
  t.equal((await over(gw.port, '/__gateway/health', { servername: 'localhost', session: before.session! })).reused, true, 'sessions resume within one config');

  install('localhost');
  gw.child.kill('SIGHUP');
  await waitFor(() => gw.logs.some((l) => l.msg === 'reload complete'), 15_000);
  // The cluster primary keeps the first workers' TLS state for the port through every
  // rolling reload; the snapshot's ticket keys must still replace it.
  t.equal((await over(gw.port, '/__gateway/health', { servername: 'localhost', session: before.session! })).reused, false, 'a reload rotates the ticket keys: the old session does not resume');
  for (let i = 0; i < 4; i++) t.equal((await over(gw.port, '/__gateway/health')).cn, 'localhost', `connection ${i + 1}: the new certificate, on every worker`);

  install('expired');
  gw.child.kill('SIGHUP');
  await waitFor(() => gw.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('reload rejected')), 15_000);
  const problem = gw.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('expired on 2001-01-01'));
  t.ok(problem, 'the reason is logged');
  for (let i = 0; i < 4; i++) t.equal((await over(gw.port, '/__gateway/health')).cn, 'localhost', `connection ${i + 1}: still the running certificate`);
  t.equal(await gw.stop('SIGTERM'), 0);
});

t.test('httpPort: plain HTTP beside TLS redirects to HTTPS, except routes that opt out; both listeners drain', async (t) => {
  const up = await startUpstream((req, res) => (req.url?.endsWith('/slow') ? setTimeout(() => echo(req, res), 1_500) : echo(req, res)));
  t.teardown(() => up.close());
  const httpPort = await freePort();
  const gw = await startGateway(
    (port) =>
      testConfig(
        port,
        [{ name: 'echo', instances: [{ url: up.url }] }],
        [
          { id: 'app', paths: ['/app/*'], service: 'echo' },
          { id: 'acme', paths: ['/.well-known/acme-challenge/*'], service: 'echo', httpsRedirect: false },
        ],
        { tls: { httpPort, certificates: [{ certFile: join(FIXTURES, 'localhost.pem'), keyFile: join(FIXTURES, 'localhost-key.pem') }] } },
      ),
    { tlsCa: CA },
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const plain = `http://127.0.0.1:${httpPort}`;

  const redirected = await request(`${plain}/app/orders?id=7`, { method: 'POST', headers: { host: 'gateway.test' }, body: 'x' });
  t.equal(redirected.statusCode, 308);
  t.equal(redirected.headers.location, `https://gateway.test:${gw.port}/app/orders?id=7`, 'to the TLS port, same target');
  await redirected.body.text();
  const agent = new Agent({ connect: { ca: CA, servername: 'gateway.test' } });
  t.teardown(() => agent.close());
  const followed = await request(`https://127.0.0.1:${gw.port}/app/orders?id=7`, { dispatcher: agent, method: 'POST', headers: { host: 'gateway.test' }, body: 'x' });
  t.equal(followed.statusCode, 200, 'the same request over HTTPS is served');
  t.equal(((await followed.body.json()) as { headers: Record<string, string> }).headers['x-forwarded-proto'], 'https');

  const challenge = await request(`${plain}/.well-known/acme-challenge/token-1`);
  t.equal(challenge.statusCode, 200, 'a route with httpsRedirect: false is served over plain HTTP');
  t.equal(((await challenge.body.json()) as { headers: Record<string, string> }).headers['x-forwarded-proto'], 'http');
  const health = await request(`${plain}/__gateway/health`);
  t.equal(health.statusCode, 200, 'health on the plain port too');
  await health.body.text();
  t.ok(gw.logs.some((l) => l.msg === 'gateway started' && l.httpPort === httpPort && l.tls === true), 'the start line names both listeners');

  // SIGTERM with a request in flight on the plain listener: it finishes; new connections are refused.
  const slow = request(`${plain}/.well-known/acme-challenge/slow`);
  await waitFor(() => up.seen.some((r) => r.url?.endsWith('/slow')), 5_000);
  const stopped = gw.stop('SIGTERM');
  const refused = await waitFor(
    () =>
      new Promise<string | null>((resolve) => {
        const s = netConnect(httpPort, '127.0.0.1', () => (s.destroy(), resolve(null)));
        s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      }),
    5_000,
    50,
  );
  t.equal(refused, 'ECONNREFUSED', 'the plain listener stopped accepting');
  const finished = await slow;
  t.equal(finished.statusCode, 200, 'the request in flight on it was answered');
  await finished.body.text();
  t.equal(await stopped, 0, 'both listeners drained; exit 0');
});
