/**
 * Malformed and smuggling requests over raw sockets, against the in-process data plane
 * (WorkerServer + GatewayHandler) in front of a stub upstream. Every case must be
 * refused with a 4xx, or with a closed connection where HTTP demands it (a framing
 * error inside the body, after the response could no longer be framed), and the
 * upstream must not see it. A second table pins requests that are odd but valid: they
 * reach the upstream exactly once, re-framed by the gateway, with nothing smuggled.
 * `by` records which layer refuses: llhttp ("parser") or the gateway ("gateway").
 */
import t from 'tap';
import net, { connect, type AddressInfo, type Socket } from 'node:net';
import { request } from 'undici';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';

const H = 'Host: a\r\n';

/** One response read off a fresh connection: status (0 = none) and whether it closed. */
interface RawAnswer {
  readonly status: number;
  readonly statuses: number[];
  readonly text: string;
  readonly closed: boolean;
}

/**
 * Send `data` on a new connection; resolve once the first response is complete (headers
 * plus Content-Length bytes) or the server closes. No half-close: Node would take a FIN
 * as the client aborting.
 */
function send(port: number, data: string, waitForClose = false): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(data, 'latin1'));
    let out = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      const statuses = [...out.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
      resolve({ status: statuses.find((x) => x >= 200) ?? 0, statuses, text: out, closed });
      s.destroy();
    };
    s.setTimeout(10_000, () => finish(false));
    s.setEncoding('latin1').on('data', (c: string) => {
      out += c;
      if (waitForClose) return;
      // Skip interim (1xx) responses, then wait for the final head and its body.
      const final = out.replace(/^(HTTP\/1\.1 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
      const end = final.indexOf('\r\n\r\n');
      if (end === -1 || !final.startsWith('HTTP/1.1 ')) return;
      const length = /\r\ncontent-length: (\d+)/i.exec(final.slice(0, end));
      if (length !== null && final.length - end - 4 >= Number(length[1])) finish(false);
    });
    s.on('close', () => finish(true));
    s.on('error', reject);
  });
}

type Case = readonly [name: string, bytes: string, expect: number | 'closed', by: 'parser' | 'gateway'];

const REFUSED: readonly Case[] = [
  // Content-Length
  ['CL and TE together', `POST /x HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'parser'],
  ['two different Content-Length', `POST /x HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`, 400, 'parser'],
  ['two equal Content-Length', `POST /x HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`, 400, 'parser'],
  ['Content-Length list "4, 4"', `POST /x HTTP/1.1\r\n${H}Content-Length: 4, 4\r\n\r\nabcd`, 400, 'parser'],
  ['Content-Length with +', `POST /x HTTP/1.1\r\n${H}Content-Length: +4\r\n\r\nabcd`, 400, 'parser'],
  ['Content-Length negative', `POST /x HTTP/1.1\r\n${H}Content-Length: -4\r\n\r\nabcd`, 400, 'parser'],
  ['Content-Length with inner space', `POST /x HTTP/1.1\r\n${H}Content-Length: 4 4\r\n\r\nabcd`, 400, 'parser'],
  ['Content-Length in hex', `POST /x HTTP/1.1\r\n${H}Content-Length: 0x4\r\n\r\nabcd`, 400, 'parser'],
  ['Content-Length overflowing 64 bits', `POST /x HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\nab`, 400, 'parser'],
  ['Content-Length empty', `POST /x HTTP/1.1\r\n${H}Content-Length: \r\n\r\nabcd`, 400, 'parser'],
  // Transfer-Encoding obfuscations
  ['TE "chunked, identity"', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, 400, 'parser'],
  ['TE "xchunked"', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, 400, 'gateway'],
  ['TE "identity"', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, 400, 'gateway'],
  ['TE "gzip, chunked" (coding the gateway would drop)', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 400, 'gateway'],
  ['TE chunked twice', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'parser'],
  ['TE chunked then gzip', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n`, 400, 'parser'],
  ['TE with vertical tab', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`, 400, 'parser'],
  ['TE name with space before colon', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, 400, 'parser'],
  ['TE folded onto the next line', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, 400, 'parser'],
  ['TE in an HTTP/1.0 request', `POST /x HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'gateway'],
  // Chunked bodies: the error is found inside the body, after the request went to the
  // proxy; no answer had begun, so it is a 400 (and the connection closes).
  ['chunk size not hex', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, 400, 'gateway'],
  ['chunk size negative', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n`, 400, 'gateway'],
  ['chunk size overflowing 64 bits', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n`, 400, 'gateway'],
  ['chunk size with trailing space', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n`, 400, 'gateway'],
  ['chunk extension with bare LF', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;a\nb\r\nabc\r\n0\r\n\r\n`, 400, 'gateway'],
  ['chunk extension of 20 kB', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;${'a'.repeat(20_000)}\r\nabc\r\n0\r\n\r\n`, 400, 'gateway'],
  ['chunks with bare LF', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n`, 400, 'gateway'],
  // Header syntax
  ['obs-fold with space', `GET /x HTTP/1.1\r\n${H}X-A: 1\r\n  folded\r\n\r\n`, 400, 'parser'],
  ['obs-fold with tab', `GET /x HTTP/1.1\r\n${H}X-A: 1\r\n\tfolded\r\n\r\n`, 400, 'parser'],
  ['first header line starting with space', `GET /x HTTP/1.1\r\n Host: a\r\n\r\n`, 400, 'parser'],
  ['header name with space', `GET /x HTTP/1.1\r\n${H}X A: 1\r\n\r\n`, 400, 'parser'],
  ['header name starting with colon', `GET /x HTTP/1.1\r\n${H}:X: 1\r\n\r\n`, 400, 'parser'],
  ['header name with "("', `GET /x HTTP/1.1\r\n${H}X(A): 1\r\n\r\n`, 400, 'parser'],
  ['empty header name', `GET /x HTTP/1.1\r\n${H}: 1\r\n\r\n`, 400, 'parser'],
  ['header value with CR', `GET /x HTTP/1.1\r\n${H}X-A: 1\r2\r\n\r\n`, 400, 'parser'],
  ['header value with NUL', `GET /x HTTP/1.1\r\n${H}X-A: 1\x002\r\n\r\n`, 400, 'parser'],
  ['header value with DEL', `GET /x HTTP/1.1\r\n${H}X-A: 1\x7f2\r\n\r\n`, 400, 'parser'],
  ['header value with a control char', `GET /x HTTP/1.1\r\n${H}X-A: 1\x012\r\n\r\n`, 400, 'parser'],
  ['header line without colon', `GET /x HTTP/1.1\r\n${H}XA\r\n\r\n`, 400, 'parser'],
  ['bare LF line endings', `GET /x HTTP/1.1\nHost: a\n\n`, 400, 'parser'],
  ['bare LF between headers', `GET /x HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n`, 400, 'parser'],
  ['bare CR between headers', `GET /x HTTP/1.1\r\nHost: a\rX-A: 1\r\n\r\n`, 400, 'parser'],
  // Request line
  ['binary garbage', `\x01\x02\x03 garbage\r\n\r\n`, 400, 'parser'],
  ['extra token after the version', `GET /x HTTP/1.1 extra\r\n${H}\r\n`, 400, 'parser'],
  ['tab as separator', `GET\t/x HTTP/1.1\r\n${H}\r\n`, 400, 'parser'],
  ['space inside the target', `GET /x?a b HTTP/1.1\r\n${H}\r\n`, 400, 'parser'],
  ['lower-case method', `get /x HTTP/1.1\r\n${H}\r\n`, 400, 'parser'],
  ['unknown method token', `FOO /x HTTP/1.1\r\n${H}\r\n`, 400, 'parser'],
  ['HTTP/0.9 request', `GET /x\r\n\r\n`, 400, 'gateway'],
  ['HTTP/2.0 in a text request line', `GET /x HTTP/2.0\r\n${H}\r\n`, 400, 'gateway'],
  ['HTTP/1.2', `GET /x HTTP/1.2\r\n${H}\r\n`, 400, 'parser'],
  ['HTTP/3.0', `GET /x HTTP/3.0\r\n${H}\r\n`, 400, 'parser'],
  ['lower-case protocol name', `GET /x http/1.1\r\n${H}\r\n`, 400, 'parser'],
  ['HTTP/2 connection preface', `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, 400, 'parser'],
  ['fragment in the target', `GET /x#frag HTTP/1.1\r\n${H}\r\n`, 400, 'gateway'],
  ['asterisk-form target with a method other than OPTIONS', `GET * HTTP/1.1\r\n${H}\r\n`, 400, 'gateway'],
  ['authority-form target on GET', `GET a:80 HTTP/1.1\r\n${H}\r\n`, 400, 'gateway'],
  ['absolute-form not matching Host', `GET http://evil.example/x HTTP/1.1\r\n${H}\r\n`, 400, 'gateway'],
  ['absolute-form with another scheme', `GET ftp://a/x HTTP/1.1\r\n${H}\r\n`, 400, 'gateway'],
  // Host
  ['Host missing (HTTP/1.1)', `GET /x HTTP/1.1\r\n\r\n`, 400, 'gateway'],
  ['Host missing (HTTP/1.0)', `GET /x HTTP/1.0\r\n\r\n`, 400, 'gateway'],
  ['Host empty', `GET /x HTTP/1.1\r\nHost:\r\n\r\n`, 400, 'gateway'],
  ['Host with a path', `GET /x HTTP/1.1\r\nHost: a/admin\r\n\r\n`, 400, 'gateway'],
  ['Host with userinfo', `GET /x HTTP/1.1\r\nHost: user@a\r\n\r\n`, 400, 'gateway'],
  ['Host with a space', `GET /x HTTP/1.1\r\nHost: a b\r\n\r\n`, 400, 'gateway'],
  ['two Host headers', `GET /x HTTP/1.1\r\n${H}Host: admin\r\n\r\n`, 400, 'gateway'],
  ['Host with a port above 65535', `GET /x HTTP/1.1\r\nHost: a:99999\r\n\r\n`, 400, 'gateway'],
  // Methods outside the allowlist
  ['TRACE', `TRACE /x HTTP/1.1\r\n${H}\r\n`, 405, 'gateway'],
  ['TRACK', `TRACK /x HTTP/1.1\r\n${H}\r\n`, 400, 'parser'],
  ['CONNECT', `CONNECT a:443 HTTP/1.1\r\n${H}\r\n`, 405, 'gateway'],
  ['PROPFIND (WebDAV)', `PROPFIND /x HTTP/1.1\r\n${H}\r\n`, 405, 'gateway'],
  // Size limits (server-wide: URL 256, headers 2048 bytes / 20 fields)
  ['URL over maxUrlBytes', `GET /${'a'.repeat(300)} HTTP/1.1\r\n${H}\r\n`, 414, 'gateway'],
  ['headers over maxHeaderBytes', `GET /x HTTP/1.1\r\n${H}X-A: ${'a'.repeat(3000)}\r\n\r\n`, 431, 'parser'],
  ['more fields than maxHeaderCount', `GET /x HTTP/1.1\r\n${H}${'X-A: 1\r\n'.repeat(25)}\r\n`, 431, 'gateway'],
  // Expect
  ['Expect other than 100-continue', `POST /x HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 1\r\n\r\na`, 417, 'gateway'],
  // Smuggling: a second request hidden behind ambiguous framing
  ['CL.CL: hidden request after CL 0', `GET /x HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`, 400, 'parser'],
  ['CL.TE: hidden request after a chunked end', `POST /x HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`, 400, 'parser'],
  ['TE.CL: obfuscated TE with CL', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST /smuggled HTTP/1.1\r\n\r\n0\r\n\r\n`, 400, 'parser'],
  // Path parameters on dot segments: servlet containers read "..;" as "..", past the route's policies
  ['"..;" dot segment with parameters', `GET /public/..;/admin/x HTTP/1.1\r\n${H}\r\n`, 400, 'gateway'],
  ['encoded "%2e%2e;" dot segment', `GET /public/%2e%2e;x/admin HTTP/1.1\r\n${H}\r\n`, 400, 'gateway'],
  ['TE.TE: gzip, chunked then a pipelined request', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`, 400, 'gateway'],
];

t.test('malformed and smuggling requests: 4xx or a cut connection, and the upstream sees none', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')], {
      limits: { maxUrlBytes: 256, maxHeaderBytes: 2048, maxHeaderCount: 20 },
    }),
  );
  t.teardown(() => gw.close());

  let parserAnswered = 0;
  for (const [name, bytes, expect, by] of REFUSED) {
    const answer = await send(gw.port, bytes, expect === 'closed');
    if (expect === 'closed') {
      t.ok(answer.closed && answer.status === 0, `${name}: connection cut without a response (${by})`);
    } else {
      t.equal(answer.status, expect, `${name}: ${expect} (${by})`);
      t.equal(answer.statuses.filter((s) => s >= 200).length, 1, `${name}: exactly one response, nothing smuggled after it`);
      t.match(answer.text, /"code":"GW_[A-Z_]+"/, `${name}: JSON error body`);
      // Parser-level answers are written raw, before any response object exists: same defaults.
      t.match(answer.text, /\r\nx-content-type-options: nosniff\r\n/i, `${name}: security headers`);
      t.match(answer.text, /\r\nx-frame-options: DENY\r\n/i, `${name}: framing refused`);
      // Every answer is in the access log under the id the client saw, the parser's too.
      const id = /\r\nx-request-id: ([^\r]+)\r\n/i.exec(answer.text)?.[1];
      const line = gw.logs.find((l) => l.requestId === id);
      t.match(line, { msg: 'request', status: expect, error: /^GW_/, client: '127.0.0.1' }, `${name}: logged`);
      if (by === 'parser') (parserAnswered++, t.equal(line?.method, null, `${name}: logged as the parser's refusal`));
    }
  }
  const metrics = await gw.registry.metrics();
  const counted = Number(/gateway_requests_total\{route="\(none\)",method="OTHER",status_class="4xx"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  t.ok(counted >= parserAnswered, `parser refusals are counted too (${counted} ≥ ${parserAnswered})`);
  // A barrier: a valid request on a fresh connection reaches the upstream, alone.
  const ok = await request(`${gw.url}/after`);
  await ok.body.text();
  t.equal(ok.statusCode, 200);
  t.same(up.seen.map((s) => s.url), ['/after'], 'the upstream saw only the valid request');
});

t.test('a framing error after body bytes were streamed: the upstream never gets a complete request', async (t) => {
  const completed: string[] = [];
  const aborted: string[] = [];
  const up = await startUpstream((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      completed.push(req.url!);
      res.end('ok');
    });
    req.on('close', () => {
      if (!req.complete) aborted.push(req.url!);
    });
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')]));
  t.teardown(() => gw.close());

  // "abc" is valid and already on its way upstream when the missing CRLF is found.
  const bad = await send(gw.port, `POST /bad-crlf HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\nGET /behind HTTP/1.1\r\n${H}\r\n`, true);
  t.equal(bad.status, 400, 'answered 400 (no answer had begun)');
  t.match(bad.text, /"code":"GW_BAD_REQUEST","message":"malformed request body: HPE_[A-Z_]+"/);
  t.match(bad.text, /\r\nconnection: close\r\n/i);
  t.ok(bad.closed, 'then the connection is closed');
  t.equal(bad.statuses.length, 1, 'nothing after the bad body is read as a request');
  t.notOk(up.seen.some((s) => s.url === '/behind'));
  // Missing final chunk: the client stops sending and goes away.
  const partial = connect(gw.port, '127.0.0.1');
  partial.write(`POST /no-final HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (up.seen.some((s) => s.url === '/no-final')) (clearInterval(check), resolve());
    }, 10);
  });
  partial.destroy();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (aborted.includes('/no-final') && (aborted.includes('/bad-crlf') || !up.seen.some((s) => s.url === '/bad-crlf'))) {
        clearInterval(check);
        resolve();
      }
    }, 10);
  });
  t.same(completed, [], 'no request completed upstream');
});

t.test('a framing error found while the request waits for its rate-limit verdict: 400 when it would be forwarded', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('a', [up.url])], [route('any', ['/*'], 'a', { rateLimits: [{ requests: 100, per: 's', key: 'ip' }] })]),
    { rateLimitDelayMs: 100 },
  );
  t.teardown(() => gw.close());
  const bad = await send(gw.port, `POST /waiting HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, true);
  t.equal(bad.status, 400);
  t.match(bad.text, /"code":"GW_BAD_REQUEST","message":"malformed request body: HPE_[A-Z_]+"/);
  t.ok(bad.closed);
  t.same(up.seen, [], 'never forwarded');
  t.match(gw.logs.find((l) => l.path === '/waiting'), { status: 400, error: 'GW_BAD_REQUEST', route: 'any' });
});

t.test('while every pooled connection is busy, a queued chunked request\'s body errors are answered, never thrown', async (t) => {
  // A healthy upstream; the gateway's one pooled connection is held by a slow upload.
  const up = await startUpstream((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('a', [up.url], { pool: { connections: 1 }, timeouts: { connectMs: 3_000 } })], [route('any', ['/*'], 'a', { limits: { maxBodyBytes: 10 } })]),
  );
  t.teardown(() => gw.close());
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  t.teardown(() => process.off('uncaughtException', onUncaught));
  const holder = connect(gw.port, '127.0.0.1');
  holder.on('error', () => {});
  holder.write(`POST /hold HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nx`);
  t.teardown(() => holder.destroy());
  await new Promise<void>((resolve) => {
    const check = setInterval(() => up.seen.length > 0 && (clearInterval(check), resolve()), 10);
  });
  const bad = await send(gw.port, `POST /bad HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`, true);
  t.equal(bad.status, 400, 'a malformed chunk while queued: 400 at once');
  t.match(bad.text, /malformed request body: HPE_/);
  const big = await send(gw.port, `POST /big HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n14\r\n${'b'.repeat(20)}\r\n`, true);
  t.equal(big.status, 413, 'over maxBodyBytes while queued: 413 at once');
  t.same(uncaught, [], 'nothing was thrown out of the body stream');
  t.same(up.seen.map((r) => r.url), ['/hold'], 'neither reached the upstream');
});

t.test('a body error while the upstream connection is still being opened is answered at once, not at connectMs', async (t) => {
  // An https instance that accepts TCP and never answers the TLS handshake: the try stays "connecting".
  const sockets: Socket[] = [];
  const mute = net.createServer((sock) => void sockets.push(sock.on('error', () => {})));
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => {
    for (const sock of sockets) sock.destroy();
    mute.close();
  });
  const port = (mute.address() as AddressInfo).port;
  const gw = await startInProcess(
    snapshot([service('a', [`https://127.0.0.1:${port}`], { timeouts: { connectMs: 8_000 }, retry: { attempts: 0 } })], [route('any', ['/*'], 'a', { limits: { maxBodyBytes: 10 } })]),
  );
  t.teardown(() => gw.close());
  const big = await send(gw.port, `POST /big HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n14\r\n${'b'.repeat(20)}\r\n`, true);
  t.equal(big.status, 413, 'the 413, not a 504 after connectMs');
  const bad = await send(gw.port, `POST /bad HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`, true);
  t.equal(bad.status, 400);
  t.ok(sockets.length >= 1, 'the tries were connecting when their bodies failed');
});

t.test('one answer per request: a bad chunk after the upstream already answered cuts, it does not answer again', async (t) => {
  const up = await startUpstream((_req, res) => res.end('early')); // answers without reading the body
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  const s = connect(gw.port, '127.0.0.1');
  let out = '';
  s.setEncoding('latin1').on('data', (c: string) => (out += c));
  s.on('error', () => {});
  const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
  s.write(`POST /early HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => out.includes('early') && (clearInterval(check), resolve()), 10);
  });
  s.write('zz\r\n'); // the upload goes on after its answer, and breaks
  await closed;
  t.equal(out.match(/HTTP\/1\.1 /g)?.length, 1, 'only the upstream\'s answer');
  t.equal(gw.logs.filter((l) => l.msg === 'request').length, 1, 'and one request in the log');
});

t.test('CONNECT pipelined behind an answer still being written cuts the connection, never writes into it', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-length': '6' });
    res.write('abc');
    setTimeout(() => res.end('def'), 200);
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  const answer = await send(gw.port, `GET /slow HTTP/1.1\r\n${H}\r\nCONNECT a:443 HTTP/1.1\r\n${H}\r\n`, true);
  t.notMatch(answer.text, /405|GW_METHOD_NOT_ALLOWED/, 'no raw 405 inside the streaming answer');
  t.ok(answer.closed);
});

type Accepted = readonly [name: string, bytes: string, url: string, bodyBytes: number];

const NORMALIZED: readonly Accepted[] = [
  ['TE with extra OWS (RFC 9110 §5.6.3)', `POST /ows HTTP/1.1\r\n${H}Transfer-Encoding:   chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, '/ows', 3],
  ['TE after a tab', `POST /tab HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, '/tab', 3],
  ['TE in upper case (codings are case-insensitive)', `POST /upper HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, '/upper', 3],
  ['chunk extensions (dropped by re-framing)', `POST /ext HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n0\r\n\r\n`, '/ext', 3],
  ['trailer fields (not forwarded)', `POST /trailer HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n`, '/trailer', 3],
  ['two spaces in the request line', `GET  /spaces HTTP/1.1\r\n${H}\r\n`, '/spaces', 0],
  ['Host with the highest port', `GET /port HTTP/1.1\r\nHost: a:65535\r\n\r\n`, '/port', 0],
  ['Host as an IPv6 literal with a port', `GET /v6 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n`, '/v6', 0],
  ['a request hidden inside a Content-Length body', `POST /body HTTP/1.1\r\n${H}Content-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`, '/body', 35],
  ['Expect: 100-continue twice', `POST /expect HTTP/1.1\r\n${H}Expect: 100-continue\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na`, '/expect', 1],
  ['h2c upgrade request (Upgrade is hop-by-hop)', `GET /h2c HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n`, '/h2c', 0],
];

t.test('odd but valid requests reach the upstream once, re-framed, with nothing smuggled', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')]));
  t.teardown(() => gw.close());
  for (const [name, bytes, url, bodyBytes] of NORMALIZED) {
    const before = up.seen.length;
    const answer = await send(gw.port, bytes);
    t.equal(answer.status, 200, `${name}: proxied`);
    const final = answer.text.slice(answer.text.indexOf('HTTP/1.1 200'));
    const echoed = JSON.parse(final.slice(final.indexOf('\r\n\r\n') + 4)) as { url: string; bodyBytes: number; headers: Record<string, string> };
    t.equal(echoed.url, url, `${name}: upstream target`);
    t.equal(echoed.bodyBytes, bodyBytes, `${name}: upstream body bytes`);
    t.equal(up.seen.length, before + 1, `${name}: exactly one upstream request`);
    for (const hop of ['upgrade', 'http2-settings', 'expect', 'x-trailer']) t.notOk(hop in echoed.headers, `${name}: no ${hop} upstream`);
  }
  t.notOk(up.seen.some((s) => s.url === '/smuggled'), 'the hidden request never reached the upstream as a request');
});
