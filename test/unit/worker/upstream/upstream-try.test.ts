/**
 * UpstreamTry's own deadlines (for timeouts under PRECISE_BELOW_MS), driven by hand the
 * way undici drives a dispatch handler, against a stand-in call: the headers deadline
 * runs from when the request was sent (an upload is not the upstream being slow), and the
 * body idle timeout waits while the client is the one not reading, then starts over.
 */
import t from 'tap';
import { EventEmitter } from 'node:events';
import { UpstreamTry } from '../../../../src/worker/upstream/upstream-try.js';
import { sleep } from '../../../helpers/net.js';

function harness() {
  const res = Object.assign(new EventEmitter(), { writableNeedDrain: false });
  const events: string[] = [];
  const call = {
    opts: { method: 'GET', requestId: 'r', via: '1.1 gw', responseHeaders: null, headerNames: null },
    clientGone: false,
    res,
    pendingDelta: () => {},
    headers: () => 'stream',
    data: () => !res.writableNeedDrain,
    error: (_t: unknown, err: Error & { code?: string }) => void events.push(`error ${err.code ?? err.message}`),
    complete: () => void events.push('complete'),
  };
  const tryOf = new UpstreamTry(call as never, { active: 0 } as never);
  const aborts: string[] = [];
  // undici's abort: the handler's onError follows.
  tryOf.onConnect((err?: Error) => {
    aborts.push((err as { code?: string }).code ?? String(err?.message));
    tryOf.onError(err!);
  });
  return { tryOf, res, events, aborts };
}

t.test('the headers deadline starts when the request was sent, not at connect (a slow upload is not a timeout)', async (t) => {
  const { tryOf, events } = harness();
  tryOf.deadlines(200, 0);
  await sleep(300); // the body is still uploading: undici has not called onRequestSent
  t.same(events, [], 'no timeout while the request is being written');
  tryOf.onRequestSent();
  await sleep(100);
  tryOf.onHeaders(200, [], () => {}, 'OK');
  tryOf.onComplete();
  t.same(events, ['complete']);

  const late = harness();
  late.tryOf.deadlines(100, 0);
  late.tryOf.onRequestSent();
  await sleep(250);
  t.same(late.events, ['error UND_ERR_HEADERS_TIMEOUT'], 'and fires once the request was sent');
});

t.test('onRequestSent after the response began (an early answer) arms nothing', async (t) => {
  const { tryOf, events } = harness();
  tryOf.deadlines(100, 0);
  tryOf.onHeaders(200, [], () => {}, 'OK');
  tryOf.onRequestSent();
  await sleep(200);
  tryOf.onComplete();
  t.same(events, ['complete']);
});

t.test('the body idle timeout waits for a client that is not reading, then starts over from its drain', async (t) => {
  const { tryOf, res, events } = harness();
  tryOf.deadlines(0, 300);
  tryOf.onHeaders(200, [], () => {}, 'OK');
  res.writableNeedDrain = true;
  tryOf.onData(Buffer.from('x')); // the client stops reading: undici pauses
  await sleep(550); // the idle timer came due at 300 ms: the client's fault, so it waits
  t.same(events, []);
  res.writableNeedDrain = false;
  res.emit('drain'); // the client caught up at 550 ms: the upstream gets a full 300 ms again
  await sleep(200);
  t.same(events, [], 'no timeout 200 ms after the drain (undici would allow until 850 ms)');
  tryOf.onData(Buffer.from('y'));
  tryOf.onComplete();
  t.same(events, ['complete']);

  const idle = harness();
  idle.tryOf.deadlines(0, 100);
  idle.tryOf.onHeaders(200, [], () => {}, 'OK');
  idle.tryOf.onData(Buffer.from('x'));
  await sleep(250);
  t.same(idle.events, ['error UND_ERR_BODY_TIMEOUT'], 'an upstream that stops sending is cut');
});

t.test('a try undici sends again after its response began is aborted at once, never relayed twice', async (t) => {
  const { tryOf, aborts } = harness();
  tryOf.onHeaders(200, [], () => {}, 'OK');
  let second = '';
  tryOf.onConnect((err?: Error) => void (second = String(err?.message)));
  t.match(second, /re-sent after its response began/);
  t.same(aborts, []);
});
