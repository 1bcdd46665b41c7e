/** CorsPolicy: origin matching (exact, `*.` patterns, `*`), actual-response headers, preflight verdicts. */
import t from 'tap';
import type { CorsConfig } from '../../../../src/ipc/index.js';
import { CorsPolicy } from '../../../../src/worker/policies/index.js';

const base: CorsConfig = { origins: [], methods: ['GET', 'POST'], headers: ['content-type', 'x-api-key'], exposeHeaders: [], credentials: false, maxAgeSeconds: 600 };
const policy = (over: Partial<CorsConfig>) => new CorsPolicy({ ...base, ...over });

t.test('exact origins match exactly; patterns need at least one label and the same scheme and port', async (t) => {
  const p = policy({ origins: ['https://app.example.com', 'https://*.example.org', 'http://*.local.test:8080'] });
  t.ok(p.allows('https://app.example.com'));
  t.notOk(p.allows('http://app.example.com'), 'scheme matters');
  t.notOk(p.allows('https://app.example.com:8443'), 'port matters');
  t.notOk(p.allows('https://app.example.com.evil.net'), 'no suffix tricks on exact origins');
  t.ok(p.allows('https://a.example.org'));
  t.ok(p.allows('https://a.b.example.org'), 'several labels');
  t.notOk(p.allows('https://example.org'), 'the bare domain is not a subdomain');
  t.notOk(p.allows('https://evilexample.org'), 'the dot is part of the suffix');
  t.notOk(p.allows('https://x.example.org.evil.net'));
  t.notOk(p.allows('https://evil.net/.example.org'), 'no path smuggled into the label');
  t.notOk(p.allows('https://evil.net@x.example.org'), 'no userinfo smuggled into the label');
  t.notOk(p.allows('http://a.example.org'), 'pattern scheme matters');
  t.ok(p.allows('http://dev.local.test:8080'));
  t.notOk(p.allows('http://dev.local.test'), 'pattern port matters');
  t.notOk(p.allows('null'), 'the opaque "null" origin is not matched by anything listed');
  t.ok(p.varies);
});

t.test('actual responses: echoed origin with credentials/expose, nothing for other origins', async (t) => {
  const p = policy({ origins: ['https://app.example.com'], credentials: true, exposeHeaders: ['X-Total', 'X-Page'] });
  const out: string[] = [];
  p.pushActual(out, 'https://app.example.com');
  t.same(out, [
    'access-control-allow-origin', 'https://app.example.com',
    'access-control-allow-credentials', 'true',
    'access-control-expose-headers', 'X-Total, X-Page',
  ]);
  const none: string[] = [];
  p.pushActual(none, 'https://evil.example');
  p.pushActual(none, undefined);
  t.same(none, []);
  const wildcard = policy({ origins: ['*'] });
  const star: string[] = [];
  wildcard.pushActual(star, 'https://anyone.example');
  t.same(star, ['access-control-allow-origin', '*'], 'a credential-less wildcard answers "*"');
  t.notOk(wildcard.varies, 'and does not vary by origin');
});

t.test('preflight: origin, method and every requested header must be allowed', async (t) => {
  const p = policy({ origins: ['https://app.example.com'], credentials: true, maxAgeSeconds: 60 });
  const ok = p.preflight('https://app.example.com', 'POST', 'Content-Type, X-API-Key');
  t.same(ok, {
    ok: true,
    headers: {
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, x-api-key',
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '60',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    },
  });
  t.same(p.preflight('https://evil.example', 'POST', undefined), { ok: false, reason: 'origin https://evil.example is not allowed' });
  t.same(p.preflight('https://app.example.com', 'DELETE', undefined), { ok: false, reason: 'method DELETE is not allowed by CORS' });
  t.same(p.preflight('https://app.example.com', 'GET', 'content-type, x-admin'), { ok: false, reason: 'request header x-admin is not allowed by CORS' });
  const any = policy({ origins: ['*'], headers: ['*'], maxAgeSeconds: 0 });
  const v = any.preflight('https://x.example', 'GET', 'x-whatever');
  t.ok(v.ok);
  if (v.ok) {
    t.equal(v.headers['access-control-allow-origin'], '*');
    t.equal(v.headers['access-control-allow-headers'], 'x-whatever', 'headers "*" allows any requested header');
    t.notOk('access-control-max-age' in v.headers, 'maxAgeSeconds 0 omits Max-Age');
  }
});
