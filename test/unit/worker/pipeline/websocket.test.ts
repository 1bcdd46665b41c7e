/**
 * WebSocket tunnels (`routes[].websocket`), end to end in one process: raw client
 * sockets → WorkerServer → GatewayHandler → undici upgrade → a real WebSocket upstream.
 * Pins the handshake relay, messages both ways, close and idle handling, the pipeline's
 * policies on the handshake, and that every Upgrade the gateway does not tunnel is
 * served as a plain request (with its body) exactly as before WebSocket support.
 */
import t from 'tap';
import { connect } from 'node:net';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { freePort, sleep, waitFor } from '../../../helpers/net.js';
import { acceptFor, openWs, startWsUpstream, textFrame } from '../../../helpers/websocket.js';

/** Write `data` (latin1: one char per byte) on a fresh connection; resolve with everything read until `until` matches (or close). */
function rawExchange(port: number, data: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(data, 'latin1'));
    let out = '';
    s.setEncoding('latin1').on('data', (c: string) => {
      out += c;
      if (until.test(out)) (s.destroy(), resolve(out));
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5_000, () => s.destroy());
  });
}

t.test('a WebSocket route tunnels the handshake and messages both ways', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('ws', [up.url])], [route('live', ['/live/*'], 'ws', { websocket: true, stripPrefix: true })]),
  );
  t.teardown(() => gw.close());

  const c = await openWs(gw.port, '/live/feed?room=1', { 'sec-websocket-protocol': 'chat, superchat', 'x-request-id': 'ws-req-1' });
  t.equal(c.status, 101);
  // The upstream's answer, relayed: its accept value proves the key went through unchanged.
  t.equal(c.headers['sec-websocket-accept'], acceptFor(c.key));
  t.equal(c.headers['sec-websocket-protocol'], 'chat');
  t.equal(c.headers.upgrade, 'websocket');
  t.equal(c.headers.connection, 'Upgrade');
  t.equal(c.headers['x-upstream'], 'ws', 'end-to-end fields of the 101 pass');
  t.equal(c.headers['keep-alive'], undefined, 'hop-by-hop fields of the 101 do not');
  t.equal(c.headers.via, '1.1 gateway');
  t.equal(c.headers['x-request-id'], 'ws-req-1');

  const seen = up.handshakes[0]!;
  t.equal(seen.url, '/feed?room=1', 'the route rewrites the handshake path like any request');
  t.equal(seen.headers['sec-websocket-key'], c.key);
  t.equal(seen.headers['sec-websocket-version'], '13');
  t.equal(seen.headers.upgrade, 'websocket');
  t.match(seen.headers.connection, /upgrade/i);
  t.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  t.equal(seen.headers.via, '1.1 gateway');
  t.equal(seen.headers['x-request-id'], 'ws-req-1');

  c.socket.write(textFrame('hello', true));
  t.same(await c.next(), ['echo: hello']);
  // Larger than one TCP segment and than a 16-bit frame length, both ways.
  const big = 'x'.repeat(200_000);
  c.socket.write(textFrame(big, true));
  t.same(await c.next(), [`echo: ${big}`]);
  for (let i = 0; i < 20; i++) c.socket.write(textFrame(`m${i}`, true));
  t.same(await c.next(20), Array.from({ length: 20 }, (_, i) => `echo: m${i}`), 'order kept');

  t.equal(gw.logs.filter((l) => l.msg === 'request').length, 0, 'logged when the tunnel closes, not at the handshake');
  c.socket.end();
  await c.closed;
  const line = (await waitFor(() => gw.logs.find((l) => l.msg === 'request' && l.route === 'live'), 2_000))!;
  t.equal(line.status, 101);
  t.equal(line.requestId, 'ws-req-1');
  t.equal(line.error, undefined);
  t.ok((line.bytes as number) > 200_000, `bytes sent to the client counted (${line.bytes})`);
  await waitFor(() => up.sockets[0]!.destroyed || up.sockets[0]!.readableEnded, 2_000);
  const metrics = await gw.registry.metrics();
  t.match(metrics, /gateway_requests_total\{route="live",method="GET",status_class="1xx"\} 1/);
  t.notMatch(metrics, /gateway_request_duration_seconds_count\{route="live"\}/, 'a tunnel lifetime is not a request latency');
});

t.test('bytes the client sends right behind its handshake reach the upstream first', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('ws', [up.url])], [route('live', ['/ws'], 'ws', { websocket: true })]));
  t.teardown(() => gw.close());
  const c = await openWs(gw.port, '/ws', {}, Buffer.concat([textFrame('early', true), textFrame('bird', true)]));
  t.equal(c.status, 101);
  t.same(await c.next(2), ['echo: early', 'echo: bird']);
  c.socket.destroy();
});

t.test('closing either side closes the other', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('ws', [up.url])], [route('live', ['/ws'], 'ws', { websocket: true })]));
  t.teardown(() => gw.close());

  // The upstream goes: the client sees its connection end.
  const a = await openWs(gw.port, '/ws');
  a.socket.write(textFrame('one', true));
  t.same(await a.next(), ['echo: one']);
  up.sockets[0]!.end(textFrame('bye', false));
  await a.closed;
  t.same(a.reader.messages, ['bye'], 'what the upstream sent before closing arrives');

  // The client resets: the upstream's socket closes.
  const b = await openWs(gw.port, '/ws');
  t.equal(b.status, 101);
  b.socket.resetAndDestroy();
  await waitFor(() => up.sockets[1]!.destroyed, 2_000);
  // The upstream resets: so does the client's connection, and the log says whose failure it was.
  const c = await openWs(gw.port, '/ws');
  let clientError = '';
  c.socket.on('error', (err: NodeJS.ErrnoException) => (clientError = err.code ?? ''));
  up.sockets[2]!.resetAndDestroy();
  await c.closed;
  t.equal(clientError, 'ECONNRESET', 'a cut stream is not passed on as a clean close');
  const lines = await waitFor(() => {
    const l = gw.logs.filter((x) => x.msg === 'request' && x.status === 101);
    return l.length === 3 ? l : null;
  }, 2_000);
  t.same(lines?.map((l) => l.error ?? null), [null, 'GW_CLIENT_CLOSED', 'GW_UPSTREAM_UNAVAILABLE']);
  t.match(lines?.[2]?.detail, /upstream connection failed: ECONNRESET/);
  await waitFor(() => gw.server.connections === 0, 2_000);
  const svc = gw.handler.table.services.get('ws')!;
  t.same([svc.active, svc.pending, svc.retriesActive], [0, 0, 0], 'no counter leaked');
  t.same(svc.endpoints.map((e) => e.active), [0], 'least-connections counts nothing open');
});

t.test('an idle tunnel is closed after the service timeouts.tunnelIdleMs', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('ws', [up.url], { timeouts: { tunnelIdleMs: 300 } })], [route('live', ['/ws'], 'ws', { websocket: true })]),
  );
  t.teardown(() => gw.close());
  const c = await openWs(gw.port, '/ws');
  // Traffic keeps it open past the idle time...
  for (let i = 0; i < 4; i++) {
    await sleep(150);
    c.socket.write(textFrame(`tick${i}`, true));
    await c.next();
  }
  t.equal(c.socket.destroyed, false, 'open while messages flow');
  // ...silence closes it.
  const started = Date.now();
  await c.closed;
  const waited = Date.now() - started;
  t.ok(waited >= 250 && waited < 3_000, `closed after ~300 ms of silence (${waited} ms)`);
  const line = (await waitFor(() => gw.logs.find((l) => l.msg === 'request' && l.status === 101), 2_000))!;
  t.equal(line.error, 'GW_TUNNEL_IDLE');
  t.match(line.detail, /no data either way for 300 ms/);
});

t.test('the handshake goes through the pipeline: routing, limits, upstream refusals and failures', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const dead = `http://127.0.0.1:${await freePort()}`;
  const gw = await startInProcess(
    snapshot(
      [service('ws', [up.url]), service('down', [dead])],
      [
        route('live', ['/ws'], 'ws', { websocket: true }),
        route('limited', ['/limited'], 'ws', { websocket: true, rateLimits: [{ requests: 1, per: 'm', key: 'ip' }] }),
        route('refuse', ['/refuse'], 'ws', { websocket: true }),
        route('down', ['/down'], 'down', { websocket: true }),
        route('fake', ['/fake', '/h2c'], 'ws', { websocket: true }),
      ],
    ),
  );
  t.teardown(() => gw.close());

  const ok = await openWs(gw.port, '/limited');
  t.equal(ok.status, 101);
  ok.socket.destroy();
  const limited = await openWs(gw.port, '/limited');
  t.equal(limited.status, 429, 'rate limits apply to handshakes');
  t.equal(limited.headers.connection, 'close');
  t.match((await limited.closed).toString(), /GW_RATE_LIMITED/);

  const refused = await openWs(gw.port, '/refuse');
  t.equal(refused.status, 403, "the upstream's refusal is relayed");
  t.equal(Buffer.concat([refused.rest, await refused.closed]).toString().includes('no way!'), true);

  const down = await openWs(gw.port, '/down');
  t.equal(down.status, 502);
  t.match((await down.closed).toString(), /"code":"GW_UPSTREAM_UNAVAILABLE"/);

  const missing = await openWs(gw.port, '/nowhere');
  t.equal(missing.status, 404, 'an unknown path is a 404 as for any request');
  t.match((await missing.closed).toString(), /GW_ROUTE_NOT_FOUND/);

  // Upstreams that answer 101 but are not WebSocket servers: no tunnel to them.
  for (const path of ['/fake', '/h2c']) {
    const bad = await openWs(gw.port, path);
    t.equal(bad.status, 502, `${path}: a 101 that is not a WebSocket answer is a 502`);
    t.match((await bad.closed).toString(), /invalid response from upstream/);
  }
  const fake = await waitFor(() => gw.logs.find((l) => l.msg === 'request' && l.path === '/fake'), 2_000);
  t.match(fake?.detail, /Sec-WebSocket-Accept does not match/);
  const h2c = await waitFor(() => gw.logs.find((l) => l.msg === 'request' && l.path === '/h2c'), 2_000);
  t.match(h2c?.detail, /switched to "h2c", not websocket/);
  await waitFor(() => up.sockets.filter((s) => !s.destroyed).length === 0, 2_000);
});

t.test('a client that leaves before the 101 (FIN or reset) is a 499, and no tunnel opens', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('ws', [up.url])], [route('slow', ['/slow'], 'ws', { websocket: true })]));
  t.teardown(() => gw.close());
  for (const how of ['end', 'reset'] as const) {
    const s = connect(gw.port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write('GET /slow HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await waitFor(() => up.handshakes.length === (how === 'end' ? 1 : 2), 2_000);
    if (how === 'end') s.end();
    else s.resetAndDestroy();
    const line = await waitFor(() => gw.logs.filter((l) => l.msg === 'request').at(how === 'end' ? 0 : 1), 2_000);
    t.equal(line?.status, 499, `${how}: logged as the client leaving`);
    t.equal(line?.error, 'GW_CLIENT_CLOSED');
  }
  // The upstream's side of both handshakes is let go once its 101 comes.
  await waitFor(() => up.sockets.length === 2 && up.sockets.every((x) => x.destroyed), 3_000);
  const svc = gw.handler.table.services.get('ws')!;
  t.same([svc.active, svc.pending, svc.retriesActive], [0, 0, 0], 'no counter leaked');
});

t.test('an Upgrade pipelined behind another request waits its turn', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('ws', [up.url])], [route('live', ['/ws'], 'ws', { websocket: true }), route('plain', ['/plain/*'], 'ws')]),
  );
  t.teardown(() => gw.close());
  // A plain request, then a WebSocket handshake with a frame behind it, in one packet.
  const out = await rawExchange(
    gw.port,
    'GET /plain/first HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' +
      textFrame('after', true).toString('latin1'),
    /echo: after/,
  );
  t.match(out, /^HTTP\/1\.1 200 OK[\s\S]*plain GET \/plain\/first[\s\S]*HTTP\/1\.1 101 Switching Protocols[\s\S]*echo: after/, 'both answered, in order');
  // An h2c upgrade behind a plain request: replayed in its turn.
  const h2c = await rawExchange(
    gw.port,
    'GET /plain/one HTTP/1.1\r\nHost: x\r\n\r\nPOST /plain/two HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\ncontent-length: 3\r\n\r\nabc',
    /plain POST \/plain\/two/,
  );
  t.match(h2c, /plain GET \/plain\/one[\s\S]*plain POST \/plain\/two/);
  t.equal(up.plain.find((p) => p.req.url === '/plain/two')?.body, 'abc');
});

t.test('an Upgrade with more headers than maxHeaderCount is a 431, never replayed', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('ws', [up.url])], [route('plain', ['/plain/*'], 'ws')]));
  t.teardown(() => gw.close());
  // Past Node's own cap (~1 000 lines) the rebuilt head would lose the Content-Length
  // after them, and the body (a request) would be parsed as the next request.
  const smuggled = 'GET /plain/SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n';
  let head = 'POST /plain/front HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n';
  for (let i = 0; i < 1500; i++) head += 'a: b\r\n';
  const out = await rawExchange(gw.port, `${head}content-length: ${smuggled.length}\r\n\r\n${smuggled}`, /SMUGGLED/);
  t.match(out, /^HTTP\/1\.1 431 /);
  t.match(out, /connection: close/i);
  t.notMatch(out, /SMUGGLED/);
  t.equal(up.plain.length, 0, 'nothing reached the upstream');
});

t.test('an Upgrade the gateway does not tunnel is served as a plain request, body and keep-alive included', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('ws', [up.url])], [route('live', ['/ws'], 'ws', { websocket: true }), route('plain', ['/plain/*'], 'ws')]),
  );
  t.teardown(() => gw.close());

  // A WebSocket handshake on a route without `websocket`: Upgrade dropped, as before.
  const c = await openWs(gw.port, '/plain/a');
  t.equal(c.status, 200);
  t.match(c.rest.toString(), /plain GET \/plain\/a/);
  c.socket.destroy();

  // h2c with a body, then a second request on the same connection.
  const out = await rawExchange(
    gw.port,
    'POST /plain/h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\ncontent-length: 11\r\n\r\nhello world' +
      'GET /plain/next HTTP/1.1\r\nHost: x\r\n\r\n',
    /plain GET \/plain\/next/,
  );
  t.match(out, /^HTTP\/1\.1 200 OK/);
  t.match(out, /plain POST \/plain\/h2c/);
  t.match(out, /plain GET \/plain\/next/, 'the connection stays usable');
  const post = up.plain.find((p) => p.req.url === '/plain/h2c')!;
  t.equal(post.body, 'hello world', 'the body reaches the upstream');
  t.equal(post.req.headers.upgrade, undefined);
  t.equal(post.req.headers['http2-settings'], undefined, 'fields named in Connection are dropped');

  // A chunked body behind an Upgrade, on a WebSocket route (not a GET: not a handshake).
  const chunked = await rawExchange(
    gw.port,
    'POST /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n',
    /plain POST \/ws/,
  );
  t.match(chunked, /^HTTP\/1\.1 200 OK/);
  t.equal(up.plain.find((p) => p.req.url === '/ws')?.body, 'abcde');

  // A handshake without Sec-WebSocket-Key: its 101 could not be checked, so no tunnel.
  const keyless = await rawExchange(gw.port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', /plain GET \/ws/);
  t.match(keyless, /^HTTP\/1\.1 200 OK/);
  t.equal(up.handshakes.length, 0, 'nothing was tunneled');

  // Many Upgrades on one keep-alive connection: each is served, and nothing piles up.
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  let many = '';
  for (let i = 0; i < 15; i++) many += `GET /plain/m${i} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n`;
  const answers = await rawExchange(gw.port, many, /plain GET \/plain\/m14/);
  t.equal(answers.match(/HTTP\/1\.1 200 OK/g)?.length, 15);
  await sleep(50);
  t.same(warnings, [], 'no listener is added per request (MaxListenersExceededWarning)');
});

t.test('a drain closes open tunnels at its deadline and tunnels no new handshake', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('ws', [up.url])], [route('live', ['/ws'], 'ws', { websocket: true })]));
  t.teardown(() => gw.close());
  const c = await openWs(gw.port, '/ws');
  t.equal(c.status, 101);
  // A keep-alive connection opened before the drain, to ask for a handshake during it.
  const late = connect(gw.port, '127.0.0.1');
  await new Promise((r) => late.once('connect', r));
  const draining = gw.server.drain(400);
  let answer = '';
  late.setEncoding('latin1').on('data', (d: string) => (answer += d));
  late.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await waitFor(() => answer.includes('\r\n\r\n'), 2_000);
  t.notMatch(answer, /^HTTP\/1\.1 101/, 'no new tunnel while draining');
  t.match(answer, /connection: close/i);
  c.socket.write(textFrame('still here', true));
  t.same(await c.next(), ['echo: still here'], 'an open tunnel keeps working until the deadline');
  t.equal(await draining, false, 'the drain ran to its deadline');
  await c.closed;
  late.destroy();
});

t.test('limits.maxTunnels caps open tunnels per service: a handshake over it is a 503', async (t) => {
  const up = await startWsUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('ws', [up.url], { limits: { maxTunnels: 1 } })], [route('live', ['/ws', '/slow'], 'ws', { websocket: true })]),
  );
  t.teardown(() => gw.close());
  const first = await openWs(gw.port, '/ws');
  t.equal(first.status, 101);
  const second = await openWs(gw.port, '/ws');
  t.equal(second.status, 503);
  t.match((await second.closed).toString(), /maxTunnels limit \(1\)/);
  first.socket.end();
  await first.closed;
  const svc = gw.handler.table.services.get('ws')!;
  await waitFor(() => svc.tunnels === 0, 2_000);
  const third = await openWs(gw.port, '/ws');
  t.equal(third.status, 101, 'a closed tunnel frees its place');
  third.socket.destroy();
  await waitFor(() => svc.tunnels === 0, 2_000);
  // Two handshakes in flight at once (the upstream answers after 300 ms): one tunnel.
  const both = await Promise.all([openWs(gw.port, '/slow'), openWs(gw.port, '/slow')]);
  t.same(both.map((c) => c.status).sort(), [101, 503], 'handshakes in flight cannot overshoot the cap');
  t.equal(svc.tunnels, 1);
  for (const c of both) c.socket.destroy();
});
