/**
 * ResponseHeaderPolicy through clientResponseHeaders (the hook the proxy uses): security
 * headers added only when the upstream sent none, Server/X-Powered-By and configured
 * headers removed, HSTS only over HTTPS, CORS headers and Vary merging.
 */
import t from 'tap';
import { DEFAULT_SECURITY_HEADERS, type SecurityHeadersConfig } from '../../../../src/ipc/index.js';
import { CorsPolicy, ResponseHeaderPolicy, requestIsHttps } from '../../../../src/worker/policies/index.js';
import { clientResponseHeaders, HeaderNames } from '../../../../src/worker/upstream/index.js';

const NAMES = new HeaderNames();

const raw = (...pairs: string[]) => pairs.map((p) => Buffer.from(p, 'latin1'));
const headersOf = (flat: string[] | null) => {
  if (flat === null) throw new Error('response not relayable');
  const out: Record<string, string[]> = {};
  for (let i = 0; i < flat.length; i += 2) (out[flat[i]!.toLowerCase()] ??= []).push(flat[i + 1]!);
  return out;
};
const cfg = (over: Partial<SecurityHeadersConfig>): SecurityHeadersConfig => ({ ...DEFAULT_SECURITY_HEADERS, ...over });

t.test('defaults: nosniff and DENY added, Server and X-Powered-By removed, upstream values kept', async (t) => {
  const p = new ResponseHeaderPolicy(DEFAULT_SECURITY_HEADERS, null);
  const h = headersOf(clientResponseHeaders(raw('Server', 'nginx/1.2', 'X-Powered-By', 'PHP/8', 'Content-Type', 'text/html'), 'rid', '1.1 gw', p.forRequest(undefined, false), NAMES));
  t.notOk('server' in h);
  t.notOk('x-powered-by' in h);
  t.same(h['x-content-type-options'], ['nosniff']);
  t.same(h['x-frame-options'], ['DENY']);
  t.notOk('strict-transport-security' in h, 'no HSTS by default');
  const own = headersOf(clientResponseHeaders(raw('X-Frame-Options', 'SAMEORIGIN'), 'rid', '1.1 gw', p, NAMES));
  t.same(own['x-frame-options'], ['SAMEORIGIN'], 'an upstream policy wins over the default');
  t.equal(p.forRequest(undefined, false), p, 'no per-request object without CORS or HSTS');
});

t.test('configured headers, forced values through removeResponseHeaders, everything off', async (t) => {
  const p = new ResponseHeaderPolicy(
    cfg({ contentSecurityPolicy: "frame-ancestors 'none'", referrerPolicy: 'no-referrer', removeResponseHeaders: ['x-frame-options', 'x-debug'] }),
    null,
  );
  const h = headersOf(clientResponseHeaders(raw('X-Frame-Options', 'ALLOWALL', 'X-Debug', '1', 'x-keep', 'y'), 'rid', '1.1 gw', p, NAMES));
  t.same(h['x-frame-options'], ['DENY'], 'removed upstream copy, gateway value forced');
  t.notOk('x-debug' in h);
  t.same(h['x-keep'], ['y']);
  t.same(h['content-security-policy'], ["frame-ancestors 'none'"]);
  t.same(h['referrer-policy'], ['no-referrer']);
  const off = new ResponseHeaderPolicy(cfg({ contentTypeOptions: false, frameOptions: false, hideServerHeaders: false }), null);
  t.equal(off.hidden, null);
  const plain = headersOf(clientResponseHeaders(raw('Server', 'up'), 'rid', '1.1 gw', off, NAMES));
  t.same(Object.keys(plain).sort(), ['server', 'via', 'x-request-id'], 'nothing added or removed');
});

t.test('HSTS only when the request is known to be HTTPS', async (t) => {
  const p = new ResponseHeaderPolicy(cfg({ hsts: { maxAgeSeconds: 600, includeSubDomains: true, preload: true } }), null);
  t.ok(p.usesHttps);
  const https = headersOf(clientResponseHeaders(raw(), 'rid', '1.1 gw', p.forRequest(undefined, true), NAMES));
  t.same(https['strict-transport-security'], ['max-age=600; includeSubDomains; preload']);
  const http = headersOf(clientResponseHeaders(raw(), 'rid', '1.1 gw', p.forRequest(undefined, false), NAMES));
  t.notOk('strict-transport-security' in http);
  const trusted = { has: (a: string | undefined) => a === '10.0.0.1' };
  const req = (remote: string, proto?: string) => ({ socket: { remoteAddress: remote }, headers: proto === undefined ? {} : { 'x-forwarded-proto': proto } }) as never;
  t.ok(requestIsHttps(req('10.0.0.1', 'https'), trusted));
  // The last entry is the trusted proxy's own; those in front of it may be the client's.
  t.ok(requestIsHttps(req('10.0.0.1', 'http, HTTPS'), trusted), 'last entry counts');
  t.notOk(requestIsHttps(req('10.0.0.1', 'https, http'), trusted), 'a client-written entry in front does not');
  t.notOk(requestIsHttps(req('192.0.2.9', 'https'), trusted), 'an untrusted client cannot claim HTTPS');
  t.notOk(requestIsHttps(req('10.0.0.1'), trusted));
});

t.test('CORS route: upstream Access-Control-* replaced, origin echoed, Vary merged', async (t) => {
  const cors = new CorsPolicy({ origins: ['https://app.example.com'], methods: ['GET'], headers: [], exposeHeaders: ['X-Total'], credentials: true, maxAgeSeconds: 0 });
  const p = new ResponseHeaderPolicy(DEFAULT_SECURITY_HEADERS, cors);
  const up = raw('Access-Control-Allow-Origin', '*', 'Vary', 'Accept-Encoding');
  const h = headersOf(clientResponseHeaders(up, 'rid', '1.1 gw', p.forRequest('https://app.example.com', false), NAMES));
  t.same(h['access-control-allow-origin'], ['https://app.example.com']);
  t.same(h['access-control-allow-credentials'], ['true']);
  t.same(h['access-control-expose-headers'], ['X-Total']);
  t.same(h['vary'], ['Accept-Encoding, Origin'], 'Origin appended to the upstream Vary');
  const other = headersOf(clientResponseHeaders(up, 'rid', '1.1 gw', p.forRequest('https://evil.example', false), NAMES));
  t.notOk('access-control-allow-origin' in other, 'no CORS header for other origins, not even the upstream one');
  t.same(other['vary'], ['Accept-Encoding, Origin']);
  const already = headersOf(clientResponseHeaders(raw('vary', 'origin'), 'rid', '1.1 gw', p.forRequest(undefined, false), NAMES));
  t.same(already['vary'], ['origin'], 'not added twice');
  t.same(p.record('https://app.example.com', false, { 'retry-after': '1' }), {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'access-control-allow-origin': 'https://app.example.com',
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'X-Total',
    vary: 'Origin',
    'retry-after': '1',
  });
});
