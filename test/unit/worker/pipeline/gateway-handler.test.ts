/**
 * The data plane end to end in one process: real client sockets → WorkerServer →
 * GatewayHandler → undici → real upstream servers. Pins routing, limits, header
 * rewriting, error bodies and the access log.
 */
import t from 'tap';
import net, { connect } from 'node:net';
import http from 'node:http';
import { RouteTable } from '../../../../src/worker/pipeline/index.js';
import { request } from 'undici';
import { testClient, type CallOptions } from '../../../helpers/http.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';
import { listenOnLoopback, waitFor } from '../../../helpers/net.js';

const { agent, call } = testClient(t);

/** `call()`, with the body parsed as JSON when it is JSON (else `json` is null). */
async function get(url: string, opts: CallOptions = {}) {
  const answer = await call(url, opts);
  let json: any = null;
  try {
    json = JSON.parse(answer.text);
  } catch {}
  return { ...answer, json };
}

/** Send raw bytes and return the raw response text (until the server closes). */
function raw(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // No half-close: Node treats a client FIN as an abort of requests in flight.
    const s = connect(port, '127.0.0.1', () => s.write(data));
    s.setTimeout(5_000, () => s.destroy());
    let out = '';
    s.setEncoding('utf8').on('data', (c) => (out += c));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

t.test('routing, path rewriting and forwarded headers', async (t) => {
  const up = await startUpstream();
  const up2 = await startUpstream();
  t.teardown(() => Promise.all([up.close(), up2.close()]));
  const gw = await startInProcess(
    snapshot(
      [service('a', [up.url]), service('b', [`${up2.url}/base/`])],
      [
        route('strip', ['/api/*'], 'a', { stripPrefix: true }),
        route('users', ['/users/:id'], 'a', { methods: ['GET'], rewrite: '/v2/people/:id' }),
        route('based', ['/b/*'], 'b'),
        route('hosted', ['/h'], 'a', { hosts: ['*.example.com'], preserveHost: true }),
      ],
    ),
  );
  t.teardown(() => gw.close());

  let r = await get(`${gw.url}/api/x/y?q=1&q=2&e=%20`, { headers: { 'x-request-id': 'client-id-1' } });
  t.equal(r.status, 200);
  t.equal(r.json.url, '/x/y?q=1&q=2&e=%20', 'prefix stripped, query kept byte for byte');
  t.equal(r.headers['x-request-id'], 'client-id-1', 'well-formed request id echoed');
  t.equal(r.json.headers['x-request-id'], 'client-id-1', 'and forwarded');
  t.equal(r.json.headers['x-forwarded-for'], '127.0.0.1');
  t.equal(r.json.headers['x-forwarded-proto'], 'http');
  t.equal(r.json.headers['x-forwarded-host'], `127.0.0.1:${gw.port}`);
  t.equal(r.json.headers.via, '1.1 gateway');
  t.equal(r.json.headers.host, `127.0.0.1:${up.port}`, 'Host is the instance authority by default');
  t.equal(r.headers.via, '1.1 gateway', 'Via on the response too');

  r = await get(`${gw.url}/api`);
  t.equal(r.json.url, '/', '/api/* also matches /api, forwarded as /');

  r = await get(`${gw.url}/users/42?full=1`);
  t.equal(r.json.url, '/v2/people/42?full=1', 'rewrite template with params, query kept');

  r = await get(`${gw.url}/b/c`);
  t.equal(r.json.url, '/base/b/c', 'instance base path prefixed');
  t.equal(up2.seen.length, 1);

  r = await get(`${gw.url}/h`, { headers: { host: 'api.example.com' } });
  t.equal(r.status, 200);
  t.equal(r.json.headers.host, 'api.example.com', 'preserveHost');
  r = await get(`${gw.url}/h`, { headers: { host: 'example.org' } });
  t.equal(r.status, 404, 'host pattern does not match another domain');

  r = await get(`${gw.url}/api/a/%2e%2e/b//c/./d`);
  t.equal(r.json.url, '/b/c/d', 'upstream sees the normalized path the router matched');

  const log = gw.logs.find((l) => l.route === 'users');
  t.match(log, { msg: 'request', method: 'GET', path: '/users/42', route: 'users', upstream: `127.0.0.1:${up.port}`, status: 200 });
  t.type(log?.durationMs, 'number');
  t.ok((log?.bytes as number) > 0, 'bytes counted');
  t.type(log?.requestId, 'string');
});

t.test('gateway answers: 404, 405 with Allow, 400, 414, 431, 413 — never reaching the upstream', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('a', [up.url])], [route('r', ['/only-get'], 'a', { methods: ['GET'] }), route('any', ['/any/*'], 'a')], {
      limits: { maxBodyBytes: 1000, maxUrlBytes: 200, maxHeaderCount: 20, maxHeaderBytes: 2048 },
    }),
  );
  t.teardown(() => gw.close());
  const uuid = /^[0-9a-f-]{36}$/;

  let r = await get(`${gw.url}/nope`);
  t.equal(r.status, 404);
  t.match(r.json, { error: { code: 'GW_ROUTE_NOT_FOUND', message: String, requestId: uuid } });
  t.equal(r.headers['x-request-id'], r.json.error.requestId, 'error body and header carry the same id');

  r = await get(`${gw.url}/only-get`, { method: 'POST', body: 'x' });
  t.equal(r.status, 405);
  t.equal(r.headers.allow, 'GET, HEAD');
  t.equal(r.json.error.code, 'GW_METHOD_NOT_ALLOWED');

  r = await get(`${gw.url}/any/a%2Fb`);
  t.equal(r.status, 400, 'encoded slash rejected by default');
  t.equal(r.json.error.code, 'GW_BAD_REQUEST');

  r = await get(`${gw.url}/any/${'x'.repeat(300)}`);
  t.equal(r.status, 414);
  t.equal(r.json.error.code, 'GW_URI_TOO_LONG');

  const many: Record<string, string> = {};
  for (let i = 0; i < 30; i++) many[`x-h-${i}`] = 'v';
  r = await get(`${gw.url}/any/x`, { headers: many });
  t.equal(r.status, 431);
  t.equal(r.json.error.code, 'GW_HEADERS_TOO_LARGE');

  const big = await raw(gw.port, `GET /any/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'y'.repeat(4000)}\r\n\r\n`);
  t.match(big, /^HTTP\/1\.1 431 /, 'header bytes over maxHeaderBytes → 431 from the parser');
  t.match(big, /"code":"GW_HEADERS_TOO_LARGE"/);

  r = await get(`${gw.url}/any/x`, { method: 'POST', body: 'z'.repeat(1001) });
  t.equal(r.status, 413, 'declared length over the limit');
  t.equal(r.json.error.code, 'GW_PAYLOAD_TOO_LARGE');

  const chunked = await raw(
    gw.port,
    `POST /any/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
      `3e8\r\n${'a'.repeat(1000)}\r\n3e8\r\n${'b'.repeat(1000)}\r\n0\r\n\r\n`,
  );
  t.match(chunked, /^HTTP\/1\.1 413 /, 'chunked body counted as it streams');

  const absolute = await raw(gw.port, `GET http://other.example/any/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
  t.match(absolute, /^HTTP\/1\.1 400 /, 'absolute-form target not matching Host');
  const garbage = await raw(gw.port, `GET /any/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`);
  t.match(garbage, /^HTTP\/1\.1 400 /, 'Content-Length with Transfer-Encoding is refused');

  r = await get(`${gw.url}/any/ok`, { method: 'POST', body: 'z'.repeat(1000) });
  t.equal(r.status, 200, 'exactly the limit passes');
  t.equal(r.json.bodyBytes, 1000);
  t.equal(up.seen.length, 1, 'only the valid request reached the upstream');
});

t.test('reserved prefix: health and ready cannot be shadowed by a catch-all route', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('all', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  let r = await get(`${gw.url}/__gateway/health`);
  t.equal(r.status, 200);
  t.match(r.json, { status: 'ok', pid: process.pid, configVersion: 1 });
  r = await get(`${gw.url}/__gateway/ready`);
  t.equal(r.status, 200);
  t.equal(r.json.status, 'ready');
  r = await get(`${gw.url}/x/../__gateway/health`);
  t.equal(r.status, 200, 'dot segments cannot smuggle a reserved path to the upstream');
  r = await get(`${gw.url}/__gateway/other`);
  t.equal(r.status, 404);
  r = await get(`${gw.url}/__gatewayish`);
  t.equal(r.status, 200, 'only the prefix as a whole segment is reserved');
  t.equal(up.seen.length, 1);
});

t.test('upstream failures: 504 on header timeout, 502 on refused connection, reset mid-body cuts the client', async (t) => {
  const slow = await startUpstream(() => {}); // never answers
  const partial = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-length': '100000' });
    res.write('x'.repeat(1000));
    setTimeout(() => res.destroy(), 50);
  });
  const refused = await startUpstream();
  const refusedUrl = refused.url;
  await refused.close();
  t.teardown(() => Promise.all([slow.close(), partial.close()]));
  const gw = await startInProcess(
    snapshot(
      [
        service('slow', [slow.url], { timeouts: { headersMs: 300 } }),
        service('partial', [partial.url]),
        service('refused', [refusedUrl]),
      ],
      [route('slow', ['/slow'], 'slow'), route('partial', ['/partial'], 'partial'), route('refused', ['/refused'], 'refused')],
    ),
  );
  t.teardown(() => gw.close());

  let r = await get(`${gw.url}/slow`);
  t.equal(r.status, 504);
  t.match(r.json, { error: { code: 'GW_UPSTREAM_TIMEOUT', message: /headers/ } });

  r = await get(`${gw.url}/refused`);
  t.equal(r.status, 502);
  t.equal(r.json.error.code, 'GW_UPSTREAM_UNAVAILABLE');
  t.equal(r.json.error.message, 'upstream connection failed', 'the kind of failure, not the library code');
  const logged = gw.logs.find((l) => l.route === 'refused');
  t.match(logged, { error: 'GW_UPSTREAM_UNAVAILABLE', detail: /^ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+$/ }, 'which the access log keeps, code first');

  const res = await request(`${gw.url}/partial`, { dispatcher: agent });
  t.equal(res.statusCode, 200, 'headers were already forwarded');
  await t.rejects(res.body.text(), 'the truncated body surfaces as an error, not a complete 200');
});

/** Send raw bytes; the text received and how the socket ended: 'fin', 'timeout' or the error code. */
function rawEnd(port: number, data: string, ms = 3_000): Promise<{ text: string; end: string }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(data));
    let text = '';
    let end = 'fin';
    s.setTimeout(ms, () => ((end = 'timeout'), s.destroy()));
    s.setEncoding('utf8').on('data', (c) => (text += c));
    s.on('error', (err: NodeJS.ErrnoException) => (end = err.code ?? err.message));
    s.on('close', () => resolve({ text, end }));
  });
}

t.test('a body the upstream cuts is reset, so even a close-delimited (HTTP/1.0) answer never looks complete', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }); // chunked upstream: no length to compare
    res.write('x'.repeat(100));
    setTimeout(() => res.destroy(), 50);
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('all', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  const old = await rawEnd(gw.port, 'GET /x HTTP/1.0\r\nHost: a\r\n\r\n');
  t.match(old.text, /^HTTP\/1\.1 200 /);
  t.notMatch(old.text, /content-length|transfer-encoding/i, 'an HTTP/1.0 client gets a close-delimited body');
  t.match(old.text, /x{100}$/, 'the part the upstream sent was relayed');
  t.equal(old.end, 'ECONNRESET', 'then a reset, not the FIN that would end such a body normally');
  const cur = await rawEnd(gw.port, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(cur.text, /transfer-encoding: chunked/i);
  t.equal(cur.end, 'ECONNRESET', 'HTTP/1.1 too (the missing last chunk said so already)');
});

t.test('an upstream answer that is not valid HTTP: 502 "invalid response from upstream", parser wording only in the log', async (t) => {
  const upstream = net.createServer((s) => s.on('data', () => s.end('HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\n\r\n')));
  const up = await listenOnLoopback(upstream);
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [`http://127.0.0.1:${up.port}`], { retry: { attempts: 0 } })], [route('all', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  const r = await get(`${gw.url}/x`);
  t.equal(r.status, 502);
  t.same(r.json.error, { code: 'GW_UPSTREAM_UNAVAILABLE', message: 'invalid response from upstream', requestId: r.headers['x-request-id'] });
  t.match(gw.logs.find((l) => l.route === 'all'), { detail: /invalid header value char/i });
});

t.test('the access log does not follow LOG_LEVEL: warn quiets the rest of the log, not the requests', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('all', ['/*'], 'a')]), { logLevel: 'warn' });
  t.teardown(() => gw.close());
  await call(`${gw.url}/logged`);
  t.match(gw.logs.find((l) => l.path === '/logged'), { msg: 'request', status: 200, route: 'all' });
  t.notOk(gw.logs.some((l) => l.level === 20 || (l.level === 30 && l.msg !== 'request')), 'nothing else below warn');
});

t.test('a 304 or 204 that carries a Content-Length is relayed whole (conditional GETs keep working)', async (t) => {
  // Raw bytes: node:http would not send a Content-Length on a 304.
  const upstream = net.createServer((s) => {
    s.on('data', (d) => {
      const status = String(d).startsWith('GET /304') ? '304 Not Modified' : '204 No Content';
      s.write(`HTTP/1.1 ${status}\r\nContent-Length: 1234\r\nETag: "v1"\r\nCache-Control: max-age=60\r\n\r\n`);
    });
  });
  const up = await listenOnLoopback(upstream);
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [`http://127.0.0.1:${up.port}`])], [route('all', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  // A raw client: undici 7 (the test's own client) has the same bug the gateway works around.
  for (const path of ['/304', '/204', '/304']) {
    const { text, end } = await rawEnd(gw.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nIf-None-Match: "v1"\r\nConnection: close\r\n\r\n`);
    t.match(text, path === '/304' ? /^HTTP\/1\.1 304 Not Modified\r\n/ : /^HTTP\/1\.1 204 No Content\r\n/, `${path}: relayed`);
    t.match(text, /\r\netag: "v1"\r\n/i, 'with its validators');
    if (path === '/304') t.match(text, /\r\ncontent-length: 1234\r\n/i, 'a 304 keeps the length a 200 would have had (RFC 9110 §8.6)');
    else t.notMatch(text, /content-length/i, 'a 204 must not carry one (RFC 9110 §8.6): dropped');
    t.ok(text.endsWith('\r\n\r\n'), 'and no body');
    t.equal(end, 'fin');
  }
  const logged = gw.logs.filter((l) => l.route === 'all');
  t.same(logged.map((l) => [l.status, l.error]), [[304, undefined], [204, undefined], [304, undefined]], 'logged as answered, not as upstream failures');
});

t.test('an upstream transfer coding other than chunked is a 502, never a body the client would misread', async (t) => {
  const gz = (await import('node:zlib')).gzipSync('compressed body');
  const upstream = net.createServer((s) => {
    s.on('data', (d) => {
      const head = String(d);
      const te = head.startsWith('GET /gzip') || head.startsWith('HEAD ') || head.startsWith('GET /cond') ? 'gzip, chunked' : 'Chunked';
      // Bodiless answers: HEAD, and a 304, may carry the coding a GET would have had.
      if (head.startsWith('HEAD ')) return void s.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: ${te}\r\n\r\n`);
      if (head.startsWith('GET /cond')) return void s.write(`HTTP/1.1 304 Not Modified\r\nETag: "v"\r\nTransfer-Encoding: ${te}\r\n\r\n`);
      s.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: ${te}\r\n\r\n${gz.length.toString(16)}\r\n`);
      s.write(gz);
      s.write('\r\n0\r\n\r\n');
    });
  });
  const up = await listenOnLoopback(upstream);
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('a', [`http://127.0.0.1:${up.port}`], { retry: { attempts: 0 }, outlierDetection: { consecutiveGatewayFailure: 1, consecutive5xx: 100 } })],
      [route('all', ['/*'], 'a')],
    ),
  );
  t.teardown(() => gw.close());
  const head = await request(`${gw.url}/gzip`, { dispatcher: agent, method: 'HEAD' });
  await head.body.dump();
  t.equal(head.statusCode, 200, 'a HEAD carrying the coding is relayed (no body follows)');
  const cond = await request(`${gw.url}/cond`, { dispatcher: agent, headers: { 'if-none-match': '"v"' } });
  await cond.body.dump();
  t.equal(cond.statusCode, 304, 'a 304 too');
  const bad = await get(`${gw.url}/gzip`);
  t.equal(bad.status, 502);
  t.same(bad.json.error, { code: 'GW_UPSTREAM_UNAVAILABLE', message: 'invalid response from upstream', requestId: bad.headers['x-request-id'] });
  t.match(gw.logs.find((l) => l.route === 'all' && l.status === 502), { detail: /transfer coding the gateway cannot relay: "gzip, chunked"/ });
  t.match(await gw.registry.metrics(), /gateway_outlier_events_total\{service="a",event="eject"\} 1/, 'for the breaker it is a failing instance, not a success');
  // The same bytes framed as plain chunked are the body itself: relayed untouched.
  const ok = await request(`${gw.url}/plain`, { dispatcher: agent });
  t.equal(ok.statusCode, 200);
  t.same(Buffer.from(await ok.body.arrayBuffer()), gz, 'chunked body relayed byte for byte');
});

t.test('requests with a body get their error answer too (undici nulls req.socket once the body is sent)', async (t) => {
  const up = await startUpstream((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/hang') return; // body read, never answers: the gateway's 504
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x'.repeat(100));
      setTimeout(() => res.destroy(), 50);
    });
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url], { timeouts: { headersMs: 300 }, retry: { attempts: 0 } })], [route('all', ['/*'], 'a', { methods: ['POST'] })]));
  t.teardown(() => gw.close());
  const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`;
  const hang = await rawEnd(gw.port, post('/hang'));
  t.match(hang.text, /^HTTP\/1\.1 504 /, 'a POST whose upstream times out gets its 504');
  t.match(gw.logs.find((l) => l.path === '/hang'), { status: 504, error: 'GW_UPSTREAM_TIMEOUT' });
  const cut = await rawEnd(gw.port, post('/cut'));
  t.match(cut.text, /^HTTP\/1\.1 200 /);
  t.equal(cut.end, 'ECONNRESET', 'a POST whose answer the upstream cuts is reset, not left open');
});

t.test('a client that disconnects aborts the upstream request', async (t) => {
  let upstreamClosed: () => void;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  const hanging = await startUpstream((req) => req.socket.once('close', () => upstreamClosed()));
  t.teardown(() => hanging.close());
  const gw = await startInProcess(snapshot([service('h', [hanging.url])], [route('h', ['/h'], 'h')]));
  t.teardown(() => gw.close());
  const s = connect(gw.port, '127.0.0.1', () => s.write('GET /h HTTP/1.1\r\nHost: a\r\n\r\n'));
  await new Promise((r) => setTimeout(r, 200));
  t.equal(hanging.seen.length, 1, 'request reached the upstream');
  s.destroy();
  await closed;
  t.pass('upstream connection closed after the client went away');
  await new Promise((r) => setTimeout(r, 50));
  t.match(gw.logs.find((l) => l.route === 'h'), { status: 499, error: 'GW_CLIENT_CLOSED' });
});

t.test('load balancing spreads requests over instances', async (t) => {
  const ups = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
  t.teardown(() => Promise.all(ups.map((u) => u.close())));
  const gw = await startInProcess(
    snapshot([service('rr', ups.map((u) => u.url), { loadBalancer: 'round-robin' })], [route('rr', ['/*'], 'rr')]),
  );
  t.teardown(() => gw.close());
  for (let i = 0; i < 30; i++) await get(`${gw.url}/x`);
  t.same(ups.map((u) => u.seen.length), [10, 10, 10]);
});

t.test('a client that trickles its headers gets 408 and its socket back', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('all', ['/*'], 'a')], { timeouts: { headersMs: 300 } }));
  t.teardown(() => gw.close());
  const out = await raw(gw.port, 'GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: '); // never finishes its headers
  t.match(out, /^HTTP\/1\.1 408 /);
  t.match(out, /"code":"GW_REQUEST_TIMEOUT"/);
  t.match(out, /\r\nx-content-type-options: nosniff\r\n/, 'raw answers carry the security headers too');
  t.equal(up.seen.length, 0);
});

t.test('OPTIONS * is answered by the gateway itself with the methods it accepts; "*" for anything else is a 400', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('all', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  const { text } = await rawEnd(gw.port, 'OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(text, /\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/i);
  t.match(text, /\r\ncontent-length: 0\r\n/i);
  t.match(text, /\r\nx-content-type-options: nosniff\r\n/i, 'with the server-wide security headers');
  const bad = await rawEnd(gw.port, 'GET * HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(bad.text, /^HTTP\/1\.1 400 /);
  t.equal(up.seen.length, 0, 'neither reached the upstream');
  t.match(gw.logs.find((l) => l.path === '*'), { route: '(gateway)', status: 200 });
});

t.test('a connection that never sends a byte is closed quietly at the headers deadline (pre-connects, probes)', async (t) => {
  const gw = await startInProcess(snapshot([service('a', ['http://127.0.0.1:1'])], [route('all', ['/*'], 'a')], { timeouts: { headersMs: 200 } }));
  t.teardown(() => gw.close());
  const idle = await rawEnd(gw.port, '', 5_000);
  t.equal(idle.text, '', 'no 408 for a browser to show');
  t.not(idle.end, 'timeout', 'but closed');
});

t.test('request edge cases: Expect 100-continue uploads, duplicate Host, errors during a pipelined response', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('slow done'), 200);
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(`got ${n}`));
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('all', ['/*'], 'a')]));
  t.teardown(() => gw.close());

  const body = await new Promise<string>((resolve, reject) => {
    const req = http.request(`${gw.url}/upload`, { method: 'POST', headers: { expect: '100-continue', 'content-length': '5' } });
    req.on('continue', () => req.end('hello'));
    req.on('response', (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve(`${res.statusCode} ${s}`));
    });
    req.on('error', reject);
  });
  t.equal(body, '200 got 5', 'the body is sent after 100 Continue and reaches the upstream');

  // Each 400 closes the connection: the request pipelined behind it is never forwarded.
  const behind = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
  for (const [bad, reason] of [
    ['GET /x HTTP/1.1\r\nHost: a.example\r\nHost: admin.example\r\n\r\n', /more than one Host header/],
    ['GET http://admin.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n', /does not match the Host header/],
    ['GET /a%2fb HTTP/1.1\r\nHost: a\r\n\r\n', /invalid request path/],
    ['GET /x HTTP/1.1\r\nHost: a b\r\n\r\n', /invalid Host header/],
  ] as const) {
    const { text, end } = await rawEnd(gw.port, bad + behind);
    t.match(text, /^HTTP\/1\.1 400 /, `refused: ${reason}`);
    t.match(text, reason);
    t.match(text, /\r\nconnection: close\r\n/i, 'the answer says close');
    t.equal(text.match(/HTTP\/1\.1 /g)?.length, 1, 'one answer only');
    t.equal(end, 'fin', 'and the connection is closed');
  }
  t.notOk(up.seen.some((r) => r.url === '/smuggled'), 'the request behind them never reached the upstream');
  const dropped = gw.logs.filter((l) => l.path === '/smuggled');
  t.equal(dropped.length, 4, 'but each is in the access log');
  t.match(dropped[0], { method: 'GET', status: 499, bytes: 0, route: null, tries: 0, error: 'GW_PIPELINE_DROPPED', requestId: /^[0-9a-f-]{36}$/ });

  const piped = await raw(gw.port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\n');
  t.notMatch(piped, /^HTTP\/1\.1 400 /, 'a parse error on the next pipelined request never answers the one in flight');
  t.ok(piped === '' || piped.startsWith('HTTP/1.1 200'), 'the connection is cut or the first response is intact');
});

t.test('draining: every answer says close, and requests pipelined behind it never reach the upstream', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.url === '/hang') return; // never answers: the gateway's own 504
    res.end('ok');
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url], { timeouts: { headersMs: 200 } })], [route('all', ['/*'], 'a', { methods: ['GET', 'POST'] })]));
  t.teardown(() => gw.close());
  gw.handler.startDraining();
  const { text, end } = await rawEnd(gw.port, 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi');
  t.match(text, /^HTTP\/1\.1 200 [^]*\r\nconnection: close\r\n/i);
  t.equal(text.match(/HTTP\/1\.1 /g)?.length, 1, 'only the first request was answered');
  t.equal(end, 'fin');
  t.same(up.seen.map((r) => r.url), ['/first'], 'the POST behind it was not sent upstream (its answer could never reach the client)');
  t.match(gw.logs.find((l) => l.path === '/second'), { method: 'POST', status: 499, error: 'GW_PIPELINE_DROPPED' }, 'and is logged as dropped');
  const timeout = await rawEnd(gw.port, 'GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(timeout.text, /^HTTP\/1\.1 504 [^]*\r\nconnection: close\r\n/i, "the gateway's own errors say close too");
});

t.test('Expect: 100-continue is answered only once the request is going upstream', async (t) => {
  const up = await startUpstream((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(`got ${n}`));
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('a', [up.url])], [
      route('up', ['/up/*'], 'a', { methods: ['POST'], limits: { maxBodyBytes: 100 } }),
      route('get', ['/only-get'], 'a', { methods: ['GET'] }),
    ]),
  );
  t.teardown(() => gw.close());
  const ask = (path: string, length: number) => `POST ${path} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`;
  for (const [path, length, status] of [['/nowhere', 5, 404], ['/only-get', 5, 405], ['/up/x', 1000, 413]] as const) {
    const { text, end } = await rawEnd(gw.port, ask(path, length) + 'GET /up/smuggled HTTP/1.1\r\nHost: a\r\n\r\n', 2_000);
    t.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), `${path}: ${status} from the headers alone, with no 100 before it`);
    t.match(text, /\r\nconnection: close\r\n/i, 'and the connection closes: the client may or may not send its body now');
    t.equal(end, 'fin');
  }
  t.equal(up.seen.length, 0, 'nothing reached the upstream');

  const accepted = await new Promise<string>((resolve) => {
    let out = '';
    const s = connect(gw.port, '127.0.0.1', () => s.write(ask('/up/x', 5)));
    s.setEncoding('utf8').on('data', (c) => {
      out += c;
      if (out === 'HTTP/1.1 100 Continue\r\n\r\n') s.write('hello');
      if (out.endsWith('got 5')) s.destroy();
    });
    s.on('close', () => resolve(out));
  });
  t.match(accepted, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, 'an admitted request gets its 100, then the answer');
  t.match(accepted, /got 5$/, 'and its body went upstream');
  // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client; it sends its body without waiting.
  const old = await rawEnd(gw.port, 'POST /up/x HTTP/1.0\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello');
  t.match(old.text, /^HTTP\/1\.1 200 /, 'an HTTP/1.0 upload is proxied');
  t.notMatch(old.text, /100 Continue/, 'without a 100 Continue');
});

t.test('cut at the drain deadline: logged as 499 with no bytes, not as an error answer nobody got', async (t) => {
  const up = await startUpstream(() => {}); // never answers
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('all', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  const cut = rawEnd(gw.port, 'GET /stuck HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitFor(() => up.seen.length === 1, 2_000);
  // What the worker does at its deadline: cut the client sockets, then destroy the pools.
  t.equal(await gw.server.drain(50), false, 'not clean');
  await gw.pools.destroy();
  const { text } = await cut;
  t.equal(text, '', 'the client got nothing');
  await waitFor(() => gw.logs.some((l) => l.path === '/stuck'), 2_000);
  t.match(gw.logs.find((l) => l.path === '/stuck'), { status: 499, bytes: 0, error: 'GW_CLIENT_CLOSED' });
});

t.test('a snapshot that fails to build leaves the serving table and its pools intact', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const good = snapshot([service('a', [up.url])], [route('all', ['/*'], 'a')]);
  const gw = await startInProcess(good);
  t.teardown(() => gw.close());
  const bad = snapshot([service('b', ['http://127.0.0.1:9'])], [route('all', ['/*'], 'missing')]);
  t.throws(() => new RouteTable(bad, gw.pools), /unknown service/);
  const r = await get(`${gw.url}/still`);
  t.equal(r.status, 200, 'the old table still proxies through its pool');
});

t.test('a client that leaves with pipelined requests in flight aborts every one of them upstream', async (t) => {
  let closed = 0;
  const hanging = await startUpstream((req) => req.socket.once('close', () => closed++));
  t.teardown(() => hanging.close());
  const gw = await startInProcess(snapshot([service('h', [hanging.url])], [route('h', ['/h/*'], 'h')]));
  t.teardown(() => gw.close());
  const s = connect(gw.port, '127.0.0.1', () => s.write('GET /h/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /h/2 HTTP/1.1\r\nHost: a\r\n\r\n'));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(hanging.seen.length, 2, 'both requests were forwarded');
  s.destroy();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(closed, 2, 'both upstream requests were aborted');
  t.equal(gw.logs.filter((l) => l.status === 499).length, 2, 'both logged as client-closed');
});

t.test('an upstream body that stalls past bodyMs cuts the client connection and logs a timeout', async (t) => {
  const stalled = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('x'.repeat(10)); // then nothing
  });
  t.teardown(() => stalled.close());
  const gw = await startInProcess(snapshot([service('s', [stalled.url], { timeouts: { bodyMs: 300 } })], [route('s', ['/s'], 's')]));
  t.teardown(() => gw.close());
  const res = await request(`${gw.url}/s`, { dispatcher: agent });
  t.equal(res.statusCode, 200);
  await t.rejects(res.body.text(), 'the client never sees a complete response');
  await new Promise((r) => setTimeout(r, 50));
  t.match(gw.logs.find((l) => l.route === 's'), { error: 'GW_UPSTREAM_TIMEOUT', status: 200 });
});

t.test('a request waiting for a pooled connection gets 504 after connectMs and is never sent', async (t) => {
  const slow = await startUpstream((_req, res) => void setTimeout(() => res.end('first'), 1_000));
  t.teardown(() => slow.close());
  const gw = await startInProcess(
    snapshot([service('s', [slow.url], { timeouts: { connectMs: 300 }, pool: { connections: 1 } })], [route('s', ['/s'], 's')]),
  );
  t.teardown(() => gw.close());
  const first = get(`${gw.url}/s`);
  await new Promise((r) => setTimeout(r, 50));
  const queued = await get(`${gw.url}/s`);
  t.equal(queued.status, 504, 'the queued request is answered without waiting for the pool');
  t.match(queued.json, { error: { code: 'GW_UPSTREAM_TIMEOUT', message: /connect/ } });
  t.equal((await first).text, 'first', 'the request holding the connection completes');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(slow.seen.length, 1, 'the expired request was dropped, not sent late');
});

t.test('rate limits: 429 with Retry-After and both header families, keyed by IP or header', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot(
      [service('a', [up.url])],
      [
        route('ip', ['/ip'], 'a', { rateLimits: [{ requests: 3, per: 'm', key: 'ip' }] }),
        route('tenant', ['/tenant'], 'a', { rateLimits: [{ requests: 2, per: 'h', key: 'header:x-tenant' }, { requests: 100, per: 's', key: 'ip' }] }),
      ],
    ),
  );
  t.teardown(() => gw.close());
  const statuses: number[] = [];
  let last: Awaited<ReturnType<typeof get>> | null = null;
  for (let i = 0; i < 5; i++) {
    last = await get(`${gw.url}/ip`);
    statuses.push(last.status);
    if (i === 0) {
      t.equal(last.headers['ratelimit-policy'], '3;w=60');
      // One token back every 20 s; whole seconds rounded up, so 20 or 21 depending on sub-ms timing.
      t.match(last.headers.ratelimit, /^limit=3, remaining=2, reset=2[01]$/);
      t.equal(last.headers['x-ratelimit-remaining'], '2');
    }
  }
  t.same(statuses, [200, 200, 200, 429, 429]);
  t.equal(last!.json.error.code, 'GW_RATE_LIMITED');
  t.ok(Number(last!.headers['retry-after']) >= 18 && Number(last!.headers['retry-after']) <= 21, '1 token per 20 s');
  t.equal(last!.headers['x-ratelimit-remaining'], '0');
  t.equal(up.seen.length, 3, 'refused requests never reach the upstream');

  const tenant = async (name: string) => (await get(`${gw.url}/tenant`, { headers: { 'x-tenant': name } })).status;
  t.same([await tenant('a'), await tenant('a'), await tenant('a'), await tenant('b')], [200, 200, 429, 200], 'each header value has its own budget');
  const both = await get(`${gw.url}/tenant`, { headers: { 'x-tenant': 'c' } });
  t.equal(both.headers['ratelimit-policy'], '2;w=3600, 100;w=1', 'every policy listed');
  t.equal(both.headers.ratelimit?.toString().startsWith('limit=2, remaining=1'), true, 'the tightest limit is reported');
});

t.test('a refused upload is not read: the 429 closes the connection', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('u', ['/u'], 'a', { rateLimits: [{ requests: 1, per: 'h', key: 'ip' }] })]));
  t.teardown(() => gw.close());
  t.equal((await get(`${gw.url}/u`)).status, 200);
  const out = await raw(gw.port, `POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n${'x'.repeat(1000)}`);
  t.match(out, /^HTTP\/1\.1 429 /);
  t.match(out, /\r\nConnection: close\r\n/i, 'the connection is closed instead of draining 100 MB');
  t.match(out, /\r\nretry-after: \d+\r\n/i);
});
