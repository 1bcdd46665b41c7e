/**
 * CORS and security headers end to end (in-process gateway, real upstream): preflights
 * answered at the gateway and never forwarded, actual responses decorated, gateway
 * errors carrying the same headers, HSTS only via a trusted HTTPS proxy.
 */
import t from 'tap';
import { connect } from 'node:net';
import { testClient } from '../../../helpers/http.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';

const { call } = testClient(t);

const cors = {
  origins: ['https://app.example.com', 'https://*.example.org'],
  methods: ['GET', 'POST'],
  headers: ['content-type', 'x-api-key'],
  exposeHeaders: ['X-Total'],
  credentials: true,
  maxAgeSeconds: 120,
};

t.test('CORS preflights are answered at the gateway; actual responses carry CORS and security headers', async (t) => {
  const up = await startUpstream((req, res) => {
    res.writeHead(200, { server: 'upstream/1.0', 'x-powered-by': 'Express', 'access-control-allow-origin': '*', vary: 'Accept-Encoding' });
    res.end('ok');
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('a', [up.url]), service('down', ['http://127.0.0.1:1'])],
      [
        route('api', ['/api/*'], 'a', { methods: ['GET', 'POST'], cors }),
        route('plain', ['/plain'], 'a', { methods: ['GET'] }),
        route('down', ['/down'], 'down', { cors }),
      ],
    ),
  );
  t.teardown(() => gw.close());
  const preflight = (path: string, origin: string, method: string, headers?: string) =>
    call(`${gw.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, ...(headers === undefined ? {} : { 'access-control-request-headers': headers }) },
    });

  let r = await preflight('/api/items', 'https://app.example.com', 'POST', 'Content-Type');
  t.equal(r.status, 204, 'preflight answered although the route does not list OPTIONS');
  t.equal(r.headers.connection, 'keep-alive', 'a bodiless preflight keeps its connection for the real request that follows');
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
  t.equal(r.headers['access-control-allow-methods'], 'GET, POST');
  t.equal(r.headers['access-control-allow-headers'], 'content-type');
  t.equal(r.headers['access-control-allow-credentials'], 'true');
  t.equal(r.headers['access-control-max-age'], '120');
  t.match(r.headers['vary'], /Origin/);
  t.equal(r.headers['x-content-type-options'], 'nosniff');
  r = await preflight('/api/items', 'https://a.b.example.org', 'GET');
  t.equal(r.status, 204, 'pattern origin');

  for (const [origin, method, headers, why] of [
    ['https://evil.example', 'POST', undefined, 'origin'],
    ['https://example.org', 'GET', undefined, 'bare pattern domain'],
    ['https://app.example.com', 'PUT', undefined, 'method not in cors.methods'],
    ['https://app.example.com', 'POST', 'content-type, x-admin', 'header not in cors.headers'],
  ] as const) {
    r = await preflight('/api/items', origin, method, headers);
    t.equal(r.status, method === 'PUT' ? 405 : 403, `refused: ${why}`);
    t.notOk('access-control-allow-origin' in r.headers, `no CORS header: ${why}`);
    t.match(r.text, method === 'PUT' ? /GW_METHOD_NOT_ALLOWED/ : /GW_CORS_REJECTED/);
  }
  r = await preflight('/plain', 'https://app.example.com', 'GET');
  t.equal(r.status, 405, 'a route without cors does not answer preflights: OPTIONS is just a method');
  t.equal(up.seen.length, 0, 'no preflight reached the upstream');

  r = await call(`${gw.url}/api/items`, { headers: { origin: 'https://app.example.com' } });
  t.equal(r.status, 200);
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example.com', 'echoed, the upstream "*" dropped');
  t.equal(r.headers['access-control-allow-credentials'], 'true');
  t.equal(r.headers['access-control-expose-headers'], 'X-Total');
  t.equal(r.headers['vary'], 'Accept-Encoding, Origin');
  t.notOk('server' in r.headers, 'Server hidden');
  t.notOk('x-powered-by' in r.headers, 'X-Powered-By hidden');
  t.equal(r.headers['x-frame-options'], 'DENY');
  r = await call(`${gw.url}/api/items`, { headers: { origin: 'https://evil.example' } });
  t.equal(r.status, 200, 'a disallowed origin is still proxied (CORS protects browsers)');
  t.notOk('access-control-allow-origin' in r.headers);
  r = await call(`${gw.url}/plain`);
  t.equal(r.headers['access-control-allow-origin'], '*', 'a route without cors leaves the upstream CORS headers alone');

  r = await call(`${gw.url}/down`, { headers: { origin: 'https://app.example.com' } });
  t.equal(r.status, 502);
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example.com', 'gateway errors are readable by the allowed origin');
  t.equal(r.headers['x-content-type-options'], 'nosniff');
  r = await call(`${gw.url}/nowhere`);
  t.equal(r.status, 404);
  t.equal(r.headers['x-content-type-options'], 'nosniff', 'server-wide headers on unrouted errors');
  t.equal(r.headers['x-frame-options'], 'DENY');
});

t.test('security headers: route overrides, HSTS only through a trusted HTTPS proxy', async (t) => {
  const up = await startUpstream((req, res) => {
    res.writeHead(200, { server: 'upstream/1.0' });
    res.end('ok');
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('a', [up.url])],
      [
        route('framed', ['/framed'], 'a', { securityHeaders: { frameOptions: 'SAMEORIGIN', hideServerHeaders: false, contentSecurityPolicy: "frame-ancestors 'self'" } }),
        route('default', ['/default'], 'a'),
      ],
      {
        trustedProxies: ['127.0.0.1'],
        securityHeaders: {
          hsts: { maxAgeSeconds: 3600, includeSubDomains: true, preload: false },
          contentTypeOptions: true,
          frameOptions: 'DENY',
          contentSecurityPolicy: null,
          referrerPolicy: 'strict-origin',
          hideServerHeaders: true,
          removeResponseHeaders: [],
        },
      },
    ),
  );
  t.teardown(() => gw.close());
  let r = await call(`${gw.url}/framed`);
  t.equal(r.headers['x-frame-options'], 'SAMEORIGIN', 'route override');
  t.equal(r.headers['content-security-policy'], "frame-ancestors 'self'");
  t.equal(r.headers['server'], 'upstream/1.0', 'hideServerHeaders: false keeps Server');
  t.equal(r.headers['referrer-policy'], 'strict-origin', 'unlisted keys keep the server-wide value');
  t.notOk('strict-transport-security' in r.headers, 'plain HTTP: no HSTS');
  r = await call(`${gw.url}/default`, { headers: { 'x-forwarded-proto': 'https' } });
  t.equal(r.headers['strict-transport-security'], 'max-age=3600; includeSubDomains', 'HTTPS said by a trusted proxy');
  t.notOk('server' in r.headers);
  r = await call(`${gw.url}/nowhere`, { headers: { 'x-forwarded-proto': 'https' } });
  t.equal(r.status, 404);
  t.equal(r.headers['strict-transport-security'], 'max-age=3600; includeSubDomains', 'unrouted errors over HTTPS carry HSTS too');
  t.equal(r.headers['referrer-policy'], 'strict-origin');
  // Answers written before a request exists (here: a malformed request line) carry the
  // server-wide headers too, but never HSTS: nothing proves the client used HTTPS.
  const raw = await new Promise<string>((resolve, reject) => {
    const s = connect(gw.port, '127.0.0.1', () => s.write('GET /x HTTP/1.1\r\n Host: a\r\n\r\n'));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
  t.match(raw, /^HTTP\/1\.1 400 /);
  t.match(raw, /\r\nreferrer-policy: strict-origin\r\n/);
  t.match(raw, /\r\nx-frame-options: DENY\r\n/);
  t.notMatch(raw, /strict-transport-security/i);
});
