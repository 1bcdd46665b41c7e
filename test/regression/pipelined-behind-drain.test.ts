/**
 * Found by a black-box probe (2026-12-01): a pipelined request with a body, queued behind another,
 * still in flight when the connection closed under it (drain began meanwhile, so the
 * answer in front said `Connection: close`), ended with `req.socket` already null and
 * threw in the worker. The call now keeps its own reference to the socket.
 */
import t from 'tap';
import { connect } from 'node:net';
import { startInProcess } from '../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../helpers/snapshot.js';
import { startUpstream } from '../helpers/upstream.js';

/** Send GET /first and POST /second pipelined on one connection, start draining after `ms`; what the client read. */
function pipelinedThenDrain(gw: { port: number; handler: { startDraining(): void } }, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(gw.port, '127.0.0.1', () => s.write('GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi'));
    let out = '';
    s.setEncoding('utf8').on('data', (c) => (out += c));
    s.on('error', () => {});
    s.on('close', () => resolve(out));
    setTimeout(() => gw.handler.startDraining(), ms);
  });
}

t.test('a queued pipelined request whose connection closes under it ends cleanly', async (t) => {
  const up = await startUpstream((req, res) => {
    setTimeout(() => res.end(`done ${req.url}`), req.url === '/first' ? 100 : 300);
  });
  t.teardown(() => up.close());
  const gw = await startInProcess(snapshot([service('a', [up.url])], [route('all', ['/*'], 'a', { methods: ['GET', 'POST'] })]));
  t.teardown(() => gw.close());
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  t.teardown(() => process.off('uncaughtException', onUncaught));

  // Both requests are upstream after 30 ms; the drain decides the first answer closes the connection.
  const text = await pipelinedThenDrain(gw, 30);
  t.match(text, /^HTTP\/1\.1 200 [^]*connection: close[^]*done \/first$/i, 'the first answer is whole and closes');
  t.same(up.seen.map((r) => r.url), ['/first', '/second'], 'both had been sent upstream before the drain began');
  // Let the second call finish (its upstream answers at 300 ms, or its abort lands).
  await new Promise((r) => setTimeout(r, 400));
  t.same(uncaught, [], 'nothing threw');
  const second = gw.logs.find((l) => l.path === '/second');
  t.match(second, { status: 499, error: 'GW_CLIENT_CLOSED' }, 'the second is logged as cut off with its connection');
});

t.test('a pipelined request still waiting for its rate-limit verdict when a drain begins is not forwarded', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startInProcess(
    snapshot([service('a', [up.url])], [route('all', ['/*'], 'a', { methods: ['GET', 'POST'], rateLimits: [{ requests: 100, per: 's', key: 'ip' }] })]),
    { rateLimitDelayMs: 150 },
  );
  t.teardown(() => gw.close());
  // Both are still waiting for their verdicts at 50 ms; the drain makes the first answer close the connection.
  const text = await pipelinedThenDrain(gw, 50);
  t.match(text, /^HTTP\/1\.1 200 [^]*connection: close/i, 'the first is answered and closes');
  t.equal(text.match(/HTTP\/1\.1 /g)?.length, 1);
  await new Promise((r) => setTimeout(r, 300));
  t.same(up.seen.map((r) => r.url), ['/first'], 'the POST behind it never took effect upstream');
  t.match(gw.logs.find((l) => l.path === '/second'), { status: 499, route: 'all', tries: 0, error: 'GW_PIPELINE_DROPPED' });
});
