/**
 * Per-route limits and the server-wide method allowlist, end to end: a route's stricter
 * limits answer 414/431/413 for it alone, `server.methods` decides which methods exist
 * at all, and nothing refused reaches the upstream.
 */
import t from 'tap';
import { connect } from 'node:net';
import { testClient } from '../../../helpers/http.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';

const { call } = testClient(t);

t.test('route limits are stricter than the server-wide ones, for that route only', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('a', [up.url])],
      [
        route('tight', ['/tight/*'], 'a', { limits: { maxUrlBytes: 32, maxHeaderCount: 6, maxHeaderBytes: 300, maxBodyBytes: 10 } }),
        route('loose', ['/loose/*'], 'a'),
      ],
    ),
  );
  t.teardown(() => gw.close());
  const long = 'x'.repeat(40);
  let r = await call(`${gw.url}/tight/${long}`);
  t.equal(r.status, 414);
  t.match(r.text, /GW_URI_TOO_LONG.*32 bytes/);
  t.equal(r.headers['x-content-type-options'], 'nosniff', "the route's response headers are on its limit errors");
  t.match(gw.logs.find((l) => l.status === 414), { route: 'tight', error: 'GW_URI_TOO_LONG' }, 'logged against the route');
  t.equal((await call(`${gw.url}/loose/${long}`)).status, 200, 'other routes keep the server-wide limit');

  const many = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`x-h${i}`, '1']));
  r = await call(`${gw.url}/tight/a`, { headers: many });
  t.equal(r.status, 431);
  t.match(r.text, /more than 6 request headers/);
  r = await call(`${gw.url}/tight/a`, { headers: { 'x-big': 'y'.repeat(400) } });
  t.equal(r.status, 431);
  t.match(r.text, /exceed 300 bytes/);
  t.equal((await call(`${gw.url}/loose/a`, { headers: { ...many, 'x-big': 'y'.repeat(400) } })).status, 200);

  r = await call(`${gw.url}/tight/a`, { method: 'POST', body: 'z'.repeat(11) });
  t.equal(r.status, 413, 'declared body over the route limit');
  t.equal((await call(`${gw.url}/tight/a`, { method: 'POST', body: 'z'.repeat(10) })).status, 200, 'at the limit is fine');
  // A streamed (chunked) body is counted while it flows; one 16-byte chunk fails before
  // any byte is passed on, so the upstream never sees this request.
  const streamed = await new Promise<string>((resolve) => {
    const s = connect(gw.port, '127.0.0.1', () =>
      s.write(`POST /tight/a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n1234567812345678\r\n0\r\n\r\n`),
    );
    let out = '';
    s.setEncoding('utf8').on('data', (c: string) => (out += c));
    s.on('close', () => resolve(out));
    s.setTimeout(5_000, () => s.destroy());
  });
  t.match(streamed, /^HTTP\/1\.1 413 /, 'a chunked body is counted against the route limit while it streams');
  t.match(streamed, /GW_PAYLOAD_TOO_LARGE/);
  t.same(
    up.seen.filter((s) => s.url.startsWith('/tight')).map((s) => s.headers['content-length']),
    ['10'],
    'only the request within the limits reached the upstream',
  );
});

t.test('server.methods: the allowlist decides which methods exist; TRACE is refused by default', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const def = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')]));
  t.teardown(() => def.close());
  let r = await call(`${def.url}/x`, { method: 'TRACE' });
  t.equal(r.status, 405);
  t.equal(r.headers['allow'], 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
  t.match(r.text, /GW_METHOD_NOT_ALLOWED/);
  t.equal((await call(`${def.url}/x`, { method: 'PROPFIND' })).status, 405, 'WebDAV methods are off by default');
  t.equal(up.seen.length, 0);

  const dav = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')], { methods: ['GET', 'PROPFIND'] }));
  t.teardown(() => dav.close());
  r = await call(`${dav.url}/x`, { method: 'PROPFIND' });
  t.equal(r.status, 200, 'a listed method is proxied');
  r = await call(`${dav.url}/x`, { method: 'POST', body: 'a' });
  t.equal(r.status, 405);
  t.equal(r.headers['allow'], 'GET, PROPFIND');
  t.same(up.seen.map((s) => s.method), ['PROPFIND']);
});
