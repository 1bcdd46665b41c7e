/**
 * Client address lists (`server.ipRestriction`, `routes[].ipRestriction`): who is refused
 * with a 403 before anything else is done for the request (redirect, CORS preflight,
 * rate limits, the upstream), which address counts (the peer, or from a trusted proxy the
 * nearest untrusted X-Forwarded-For hop), and how the server's lists and a route's combine.
 * The client of these tests is always 127.0.0.1; other addresses come through a trusted
 * proxy's X-Forwarded-For.
 */
import t from 'tap';
import { request } from 'undici';
import { IpRestriction } from '../../../../src/worker/policies/index.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { exchangeUntilClosed } from '../../../helpers/net.js';
import { startUpstream } from '../../../helpers/upstream.js';
import { openWs, startWsUpstream } from '../../../helpers/websocket.js';

t.test('IpRestriction: deny wins, every non-empty allow list must hold the address, IPv4-mapped addresses read as IPv4', async (t) => {
  t.equal(IpRestriction.of(undefined, undefined), null, 'no lists: nothing to check');
  const r = IpRestriction.of(undefined, { allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.9.0.0/16'] })!;
  t.ok(r.admits('10.1.2.3'));
  t.ok(r.admits('::ffff:10.1.2.3'), 'IPv4-mapped IPv6 is the IPv4 address');
  t.ok(r.admits('2001:db8::7'));
  t.notOk(r.admits('10.9.1.1'), 'denied although allowed');
  t.notOk(r.admits('192.0.2.1'), 'outside allow');
  t.notOk(r.admits('2001:db9::1'));

  const both = IpRestriction.of({ allow: ['10.0.0.0/8'], deny: ['10.66.0.0/16'] }, { allow: ['10.1.0.0/16', '10.66.0.0/16'], deny: [] })!;
  t.ok(both.admits('10.1.0.5'), 'in the server allow list and the route allow list');
  t.notOk(both.admits('10.2.0.5'), 'in the server allow list only: the route narrows it');
  t.notOk(both.admits('10.66.0.5'), 'the route cannot reopen what the server denies');
  const denyOnly = IpRestriction.of({ allow: [], deny: ['192.0.2.1'] }, undefined)!;
  t.notOk(denyOnly.admits('192.0.2.1'));
  t.ok(denyOnly.admits('192.0.2.2'), 'an empty allow list lets every other address in');
});

t.test('a refused client gets a 403 JSON error; the upstream, other routes and the health endpoint are unaffected', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('s', [up.url])],
      [route('closed', ['/closed/*'], 's', { ipRestriction: { allow: ['10.0.0.0/8'], deny: [] } }), route('open', ['/open'], 's')],
    ),
  );
  t.teardown(() => gw.close());

  const res = await request(`${gw.url}/closed/a`, { headers: { 'x-request-id': 'ipr-1' } });
  t.equal(res.statusCode, 403);
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(res.headers['x-request-id'], 'ipr-1');
  t.equal(res.headers['x-content-type-options'], 'nosniff', 'the route\'s security headers');
  t.same(await res.body.json(), { error: { code: 'GW_IP_FORBIDDEN', message: 'this route is not served to your address', requestId: 'ipr-1' } });
  t.equal(up.seen.length, 0, 'the upstream never saw it');
  const line = gw.logs.find((l) => l.msg === 'request' && l.status === 403);
  t.match(line, { route: 'closed', error: 'GW_IP_FORBIDDEN', client: '127.0.0.1' }, 'logged with its route, code and address');

  const open = await request(`${gw.url}/open`);
  t.equal(open.statusCode, 200);
  await open.body.text();
  const health = await request(`${gw.url}/__gateway/health`);
  t.equal(health.statusCode, 200, 'reserved endpoints are not routes');
  await health.body.text();
  t.equal(up.seen.length, 1);
});

t.test('behind a trusted proxy the nearest untrusted X-Forwarded-For hop decides; from anyone else the peer does', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const routes = [route('r', ['/r'], 's', { ipRestriction: { allow: ['203.0.113.0/24'], deny: ['203.0.113.66'] } })];
  const trusted = await startInProcess(snapshot([service('s', [up.url])], routes, { trustedProxies: ['127.0.0.1', '10.0.0.0/8'] }));
  t.teardown(() => trusted.close());
  const untrusted = await startInProcess(snapshot([service('s', [up.url])], routes));
  t.teardown(() => untrusted.close());

  const status = async (url: string, xff: string | undefined) => {
    const res = await request(`${url}/r`, { headers: xff === undefined ? {} : { 'x-forwarded-for': xff } });
    await res.body.text();
    return res.statusCode;
  };
  t.equal(await status(trusted.url, '203.0.113.7'), 200);
  t.equal(await status(trusted.url, '203.0.113.7, 10.1.1.1'), 200, 'trusted hops are skipped');
  t.equal(await status(trusted.url, '203.0.113.66'), 403, 'denied inside the allowed range');
  t.equal(await status(trusted.url, '198.51.100.9'), 403);
  t.equal(await status(trusted.url, '203.0.113.7, 198.51.100.9'), 403, 'a client cannot prepend an allowed address');
  t.equal(await status(trusted.url, undefined), 403, 'no header: the proxy itself is the client');
  t.equal(await status(untrusted.url, '203.0.113.7'), 403, 'an untrusted peer\'s header is ignored');
  t.equal(await status(trusted.url, '203.0.113.7:5555'), 200, 'a port after the address is the proxy\'s style, not junk');
  t.equal(await status(trusted.url, '203.0.113.66:5555'), 403, 'and it does not hide a denied client');
  t.equal(up.seen.length, 3, 'only the three admitted requests went upstream');
});

t.test('a trusted proxy\'s entry that is no address leaves the client unknown: refused, even by a deny-only list', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('s', [up.url])], [route('r', ['/r'], 's', { ipRestriction: { allow: [], deny: ['203.0.113.66'] } })], { trustedProxies: ['127.0.0.1'] }),
  );
  t.teardown(() => gw.close());
  for (const xff of ['unknown', '203.0.113.66, garbage', '[203.0.113.66']) {
    const res = await request(`${gw.url}/r`, { headers: { 'x-forwarded-for': xff } });
    t.equal(res.statusCode, 403, `X-Forwarded-For: ${xff}`);
    await res.body.text();
  }
  const ok = await request(`${gw.url}/r`, { headers: { 'x-forwarded-for': 'garbage, 203.0.113.7' } });
  t.equal(ok.statusCode, 200, 'junk further left, written by the client, does not matter');
  await ok.body.text();
  t.equal(up.seen.length, 1);
});

t.test('server lists apply to every route, and a route cannot reopen a server deny', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('s', [up.url])],
      [route('a', ['/a'], 's'), route('b', ['/b'], 's', { ipRestriction: { allow: ['127.0.0.1'], deny: [] } })],
      { ipRestriction: { allow: [], deny: ['127.0.0.0/8'] } },
    ),
  );
  t.teardown(() => gw.close());
  for (const path of ['/a', '/b']) {
    const res = await request(`${gw.url}${path}`);
    t.equal(res.statusCode, 403, path);
    await res.body.text();
  }
  t.equal(up.seen.length, 0);
});

t.test('the refusal comes before rate limits, redirects and CORS preflights, and with the access log off', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const deny = { allow: [], deny: ['127.0.0.1'] };
  const gw = await startInProcess(
    snapshot(
      [service('s', [up.url])],
      [
        route('limited', ['/limited'], 's', { ipRestriction: deny, rateLimits: [{ requests: 1, per: 'h', key: 'ip' }] }),
        route('redirect', ['/redirect'], 's', { ipRestriction: deny, httpsRedirect: true }),
        route('cors', ['/cors'], 's', {
          ipRestriction: deny,
          cors: { origins: ['https://app.example.com'], methods: ['GET'], headers: [], exposeHeaders: [], credentials: false, maxAgeSeconds: 600 },
        }),
      ],
    ),
    { accessLog: false },
  );
  t.teardown(() => gw.close());

  for (let i = 0; i < 3; i++) {
    const res = await request(`${gw.url}/limited`);
    t.equal(res.statusCode, 403, `request ${i + 1}: refused, never 429`);
    t.equal(res.headers['ratelimit-policy'], undefined, 'no rate-limit state for a refused client');
    await res.body.text();
  }
  const redirect = await request(`${gw.url}/redirect`);
  t.equal(redirect.statusCode, 403, 'not redirected');
  t.equal(redirect.headers.location, undefined);
  await redirect.body.text();

  const preflight = await request(`${gw.url}/cors`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
  });
  t.equal(preflight.statusCode, 403, 'the preflight is refused too');
  t.equal(preflight.headers['access-control-allow-origin'], undefined, 'with no CORS header, as a refused preflight');
  t.match(await preflight.body.json(), { error: { code: 'GW_IP_FORBIDDEN' } });
  t.equal(up.seen.length, 0);
});

t.test('a refused upload is not read: the connection closes after the 403', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('s', [up.url])], [route('r', ['/r'], 's', { ipRestriction: { allow: ['10.0.0.0/8'], deny: [] } })]));
  t.teardown(() => gw.close());
  // Headers announce a megabyte and only a few bytes follow: the gateway must answer
  // and close without waiting for the rest.
  const got = await exchangeUntilClosed(gw.port, `POST /r HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\nhello`);
  t.match(got, /^HTTP\/1\.1 403 /);
  t.match(got, /\r\nconnection: close\r\n/i);
  t.equal(up.seen.length, 0);
});

t.test('a WebSocket handshake from a refused client gets the 403 and no tunnel', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('ws', [up.url])], [route('live', ['/live'], 'ws', { websocket: true, ipRestriction: { allow: ['10.0.0.0/8'], deny: [] } })]));
  t.teardown(() => gw.close());
  const c = await openWs(gw.port, '/live');
  t.equal(c.status, 403);
  t.match(c.rest.toString(), /GW_IP_FORBIDDEN/);
  c.socket.destroy();
  t.equal(up.handshakes.length, 0, 'the upstream saw no handshake');
});
