/** Routes with `httpsRedirect`: 308 to the same URL over HTTPS for requests not known to be HTTPS. */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { httpsLocation } from '../../../../src/worker/pipeline/https-redirect.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';
import { exchangeUntilClosed, freePort } from '../../../helpers/net.js';
import { ROOT } from '../../../helpers/repo.js';

t.test('httpsLocation: host without its port, the TLS port unless 443, the target as sent', async (t) => {
  t.equal(httpsLocation('Example.COM:8080', '/a/b?c=1', 443), 'https://example.com/a/b?c=1');
  t.equal(httpsLocation('example.com', '/', 8443), 'https://example.com:8443/');
  t.equal(httpsLocation('[2001:db8::1]:80', '/x', 443), 'https://[2001:db8::1]/x');
  t.equal(httpsLocation('example.com.', '/x', 443), 'https://example.com/x', 'a trailing dot dropped, as for routing');
  t.equal(httpsLocation(undefined, '/x', 443), null, 'no Host, no redirect');
  t.equal(httpsLocation('', '/x', 443), null);
  t.equal(httpsLocation('exa mple.com', '/x', 443), null, 'a Host that is no host name');
});

t.test('a redirect route answers 308 before auth, limits or the upstream; HTTPS requests and other routes are served', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('s', [up.url])],
      [route('secure', ['/secure/*'], 's', { httpsRedirect: true, rateLimits: [{ requests: 2, per: 'h', key: 'ip' }] }), route('open', ['/open'], 's')],
      { trustedProxies: ['127.0.0.1'] },
    ),
  );
  t.teardown(() => gw.close());

  for (let i = 0; i < 3; i++) {
    const res = await request(`${gw.url}/secure/a?b=1`, { headers: { host: 'api.example.com:8080' } });
    t.equal(res.statusCode, 308, `request ${i + 1}: redirected (the rate limit is never charged)`);
    t.equal(res.headers.location, 'https://api.example.com/secure/a?b=1');
    t.equal(res.headers['content-length'], '0');
    t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/);
    t.equal(res.headers['x-content-type-options'], 'nosniff', 'the gateway\'s security headers');
    await res.body.text();
  }
  t.equal(up.seen.length, 0, 'the upstream never saw them');
  const line = gw.logs.find((l) => l.msg === 'request' && l.status === 308);
  t.equal(line?.route, 'secure', 'logged with its route');

  const behindTls = await request(`${gw.url}/secure/a`, { headers: { 'x-forwarded-proto': 'https' } });
  t.equal(behindTls.statusCode, 200, 'a trusted proxy that terminated TLS: served');
  await behindTls.body.text();
  const appended = await request(`${gw.url}/secure/a`, { headers: { 'x-forwarded-proto': 'http, https' } });
  t.equal(appended.statusCode, 200, 'the last entry is the trusted proxy\'s own');
  await appended.body.text();
  const forged = await request(`${gw.url}/secure/a`, { headers: { 'x-forwarded-proto': 'https, http' } });
  t.equal(forged.statusCode, 308, 'a client\'s "https" in front of the proxy\'s "http" does not skip the redirect');
  await forged.body.text();
  const open = await request(`${gw.url}/open`);
  t.equal(open.statusCode, 200, 'a route without httpsRedirect: served over plain HTTP');
  await open.body.text();
  const health = await request(`${gw.url}/__gateway/health`);
  t.equal(health.statusCode, 200, 'the reserved endpoints are never redirected (load-balancer probes)');
  await health.body.text();
});

t.test('a redirected upload is not read: 308, then the connection closes', async (t) => {
  const gw = await startInProcess(snapshot([service('s', ['http://127.0.0.1:1'])], [route('secure', ['/*'], 's', { httpsRedirect: true })]));
  t.teardown(() => gw.close());
  const answer = await exchangeUntilClosed(gw.port, 'POST /form HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 100000\r\n\r\npartial');
  t.match(answer, /^HTTP\/1\.1 308 Permanent Redirect\r\n/);
  t.match(answer, /\r\nlocation: https:\/\/shop\.test\/form\r\n/i);
  t.match(answer, /\r\nconnection: close\r\n/i);
});

t.test('a Host that is valid HTTP but no host name (reg-name punctuation) cannot be redirected to: 400', async (t) => {
  const gw = await startInProcess(snapshot([service('s', ['http://127.0.0.1:1'])], [route('secure', ['/*'], 's', { httpsRedirect: true })]));
  t.teardown(() => gw.close());
  const answer = await exchangeUntilClosed(gw.port, "GET /x HTTP/1.1\r\nHost: shop!'test\r\nConnection: close\r\n\r\n");
  t.match(answer, /^HTTP\/1\.1 400 /);
  t.match(answer, /a redirect to HTTPS needs a Host header/);
});

t.test('the plain listener beside TLS: redirects, replays a non-tunnelled Upgrade, answers CONNECT', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const pem = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'tls', name), 'utf8');
  const httpPort = await freePort();
  // The configured TLS port (the in-process listener itself binds any free port).
  const tlsPort = 8443;
  const tls = {
    certificates: [{ cert: pem('localhost.pem'), key: pem('localhost-key.pem'), names: ['localhost'], certFile: 'localhost.pem', notAfter: '2126-01-01T00:00:00.000Z' }],
    minVersion: 'TLSv1.2' as const,
    ciphers: null,
    handshakeTimeoutMs: 2_000,
    httpPort,
    clientAuth: null,
    ticketKeys: randomBytes(48).toString('hex'),
  };
  const gw = await startInProcess(snapshot([service('s', [up.url])], [route('app', ['/app/*'], 's', { httpsRedirect: true }), route('acme', ['/acme/*'], 's')], { port: tlsPort, tls }));
  t.teardown(() => gw.close());

  const redirected = await exchangeUntilClosed(httpPort, 'GET /app/x HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n');
  t.match(redirected, new RegExp(`^HTTP/1\\.1 308 [^]*\\r\\nlocation: https://shop\\.test:${tlsPort}/app/x\\r\\n`, 'i'), 'to the TLS listener\'s port');
  const replayed = await exchangeUntilClosed(
    httpPort,
    'GET /acme/one HTTP/1.1\r\nHost: shop.test\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nGET /acme/two HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n',
  );
  t.equal(replayed.match(/HTTP\/1\.1 200 /g)?.length, 2, 'the Upgrade served as a plain request on the plain listener, then the next one');
  t.same(up.seen.map((r) => [r.url, r.headers['x-forwarded-proto']]), [['/acme/one', 'http'], ['/acme/two', 'http']]);
  const connectAnswer = await exchangeUntilClosed(httpPort, 'CONNECT shop.test:443 HTTP/1.1\r\nHost: shop.test:443\r\n\r\n');
  t.match(connectAnswer, /^HTTP\/1\.1 405 /, 'CONNECT refused on the plain listener too');

  const drained = gw.server.drain(1_000);
  const refused = await new Promise<string | null>((resolve) => {
    const s = connect(httpPort, '127.0.0.1', () => (s.destroy(), resolve(null)));
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  t.equal(refused, 'ECONNREFUSED', 'a drain closes the plain listener too');
  t.equal(await drained, true);
});
