/**
 * Per-IP concurrent connection limit (WorkerServer + ConnectionLimiter) and slow-client
 * protection: connections over the limit are closed before a byte is read and counted,
 * trusted proxies are exempt, a slot frees when a connection closes; a slowloris that
 * trickles its headers byte by byte is cut after headersMs, a slow upload after requestMs.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { startInProcess } from '../../helpers/in-process-gateway.js';
import { waitFor } from '../../helpers/net.js';
import { route, service, snapshot } from '../../helpers/snapshot.js';
import { startUpstream } from '../../helpers/upstream.js';

/** A client connection that sends `GET /` and reports its first response or its close. */
function client(port: number): Promise<{ socket: Socket; answer: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
      const answer = new Promise<string>((done) => {
        let out = '';
        socket.setEncoding('utf8').on('data', (c: string) => {
          out += c;
          if (out.includes('\r\n\r\n')) done(out);
        });
        socket.on('close', () => done(out === '' ? 'closed' : out));
      });
      resolve({ socket, answer });
    });
    socket.on('error', reject);
  });
}

t.test('connections over maxConnectionsPerIp are closed at once and counted; a closed one frees its slot', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')], { limits: { maxConnectionsPerIp: 2 } }));
  t.teardown(() => gw.close());
  const a = await client(gw.port);
  const b = await client(gw.port);
  t.match(await a.answer, /^HTTP\/1\.1 200 /, 'first connection served');
  t.match(await b.answer, /^HTTP\/1\.1 200 /, 'second connection served (both stay open: keep-alive)');
  const c = await client(gw.port);
  t.equal(await c.answer, 'closed', 'third connection closed without a response');
  t.match(await gw.registry.metrics(), /gateway_connections_rejected_total\{reason="per_ip_limit"\} 1\b/);
  t.equal(up.seen.length, 2, 'the refused connection sent nothing upstream');

  a.socket.destroy();
  // The slot is released when the server sees the close; until then a new one may be refused.
  const d = (await waitFor(async () => {
    const next = await client(gw.port);
    const answer = await next.answer;
    if (answer === 'closed') return null;
    return { next, answer };
  }, 5_000))!;
  t.match(d.answer, /^HTTP\/1\.1 200 /, 'a freed slot admits a new connection');
  b.socket.destroy();
  d.next.socket.destroy();
});

t.test('trusted proxies are not limited as if they were one client', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')], { trustedProxies: ['127.0.0.1'], limits: { maxConnectionsPerIp: 1 } }),
  );
  t.teardown(() => gw.close());
  const clients = [await client(gw.port), await client(gw.port), await client(gw.port)];
  for (const [i, c] of clients.entries()) t.match(await c.answer, /^HTTP\/1\.1 200 /, `connection ${i + 1} from the trusted proxy served`);
  for (const c of clients) c.socket.destroy();
  t.match(await gw.registry.metrics(), /gateway_connections_rejected_total\{reason="per_ip_limit"\} 0\b/);
});

t.test('slowloris: headers trickled byte by byte are cut after headersMs', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')], { timeouts: { headersMs: 300 } }));
  t.teardown(() => gw.close());
  // 400 bytes at one per 20 ms would take 8 s: far past the deadline, each byte resets no timer.
  const head = `GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: ${'s'.repeat(360)}\r\n\r\n`;
  let sent = 0;
  const out = await new Promise<string>((resolve) => {
    const s = connect(gw.port, '127.0.0.1');
    let got = '';
    const tick = setInterval(() => {
      if (sent < head.length && s.writable) s.write(head[sent++]!);
    }, 20);
    s.setEncoding('utf8').on('data', (c: string) => (got += c));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(tick);
      resolve(got);
    });
  });
  t.match(out, /^HTTP\/1\.1 408 /);
  t.match(out, /"code":"GW_REQUEST_TIMEOUT"/);
  t.ok(sent < head.length, `cut before the headers were complete (${sent} of ${head.length} bytes)`);
  t.equal(up.seen.length, 0);
});

t.test('a slow upload is cut after requestMs and never completes upstream', async (t) => {
  const completed: string[] = [];
  const up = await startUpstream((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      completed.push(req.url!);
      res.end('ok');
    });
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('any', ['/*'], 'a')], { timeouts: { headersMs: 300, requestMs: 600 } }));
  t.teardown(() => gw.close());
  const total = 400;
  let sent = 0;
  const out = await new Promise<string>((resolve) => {
    const s = connect(gw.port, '127.0.0.1', () => s.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`));
    let got = '';
    const tick = setInterval(() => {
      if (sent < total && s.writable) (s.write('b'), sent++);
    }, 20);
    s.setEncoding('utf8').on('data', (c: string) => (got += c));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(tick);
      resolve(got);
    });
  });
  t.ok(sent < total, `cut before the body was complete (${sent} of ${total} bytes)`);
  t.notMatch(out, /^HTTP\/1\.1 2/, 'no success response');
  t.same(completed, [], 'the upstream never received a complete request');
});
