/**
 * Retries, resource limits and the breaker on the real proxy path (in-process gateway,
 * real sockets, upstreams that fail on demand). Pins: which failures are retried, that a
 * retry lands on another instance, that POST and started responses are never retried,
 * Retry-After, the budget's amplification bound, the 503s of resource limits, and
 * ejection → half-open → recovery and panic.
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { request } from 'undici';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { testClient } from '../../../helpers/http.js';
import { startInProcess } from '../../../helpers/in-process-gateway.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream, echo, type TestUpstream } from '../../../helpers/upstream.js';
import { freePort, sleep } from '../../../helpers/net.js';

const { agent, call } = testClient(t);

const status = (code: number, headers: Record<string, string> = {}) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(code, { 'content-type': 'text/plain', ...headers });
  res.end(`status ${code}`);
};

async function upstreams(t: { teardown(fn: () => unknown): void }, ...handlers: ((req: IncomingMessage, res: ServerResponse) => void)[]): Promise<TestUpstream[]> {
  const ups = await Promise.all(handlers.map((h) => startUpstream(h)));
  t.teardown(() => Promise.all(ups.map((u) => u.close())));
  return ups;
}

t.test('a connect failure is retried on the other instance (default policy)', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const [ok] = await upstreams(t, echo);
  const gw = await startInProcess(snapshot([service('s', [dead, ok!.url])], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  for (let i = 0; i < 4; i++) t.equal((await call(`${gw.url}/x`)).status, 200, `request ${i}`);
  t.equal(ok!.seen.length, 4, 'every request ended on the live instance');
  const retried = gw.logs.filter((l) => l.route === 'r' && l.tries === 2);
  t.ok(retried.length >= 1, 'the ones that met the dead instance first took 2 tries');
  t.match(gw.logs.find((l) => l.route === 'r' && l.tries === 2), { upstream: ok!.url.slice(7), status: 200 });
});

t.test('a connect failure is retried for a POST too: nothing reached the instance', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const [ok] = await upstreams(t, (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => res.end(`got ${body}`));
  });
  const svc = service('s', [dead, ok!.url], { loadBalancer: 'round-robin', outlierDetection: { enabled: false } });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's', { methods: ['POST'] })]));
  t.teardown(() => gw.close());
  for (let i = 0; i < 4; i++) {
    const r = await call(`${gw.url}/p${i}`, { method: 'POST', body: `payload ${i}` });
    t.same([r.status, r.text], [200, `got payload ${i}`], `POST ${i}: served, body intact`);
  }
  t.equal(ok!.seen.length, 4, 'each POST reached the live instance exactly once');
  // A chunked body (it passes through the size-limit stream) is retried whole as well.
  const chunked = await call(`${gw.url}/c`, { method: 'POST', body: Readable.from([Buffer.from('part one, '), Buffer.from('part two')]) });
  t.same([chunked.status, chunked.text], [200, 'got part one, part two'], 'a chunked POST: served, body whole');
  t.ok(gw.logs.some((l) => l.route === 'r' && l.tries === 2), 'the ones that met the dead instance first were retried');
});

t.test('configured statuses are retried for idempotent methods only; retryable routes opt in', async (t) => {
  const [bad, good] = await upstreams(t, status(503), echo);
  const svc = service('s', [bad!.url, good!.url], { retry: { on: [503] }, loadBalancer: 'round-robin', outlierDetection: { enabled: false } });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/r/*'], 's'), route('w', ['/w/*'], 's', { retryable: true })]));
  t.teardown(() => gw.close());
  // Round robin starts at the bad instance, and alternates.
  let r = await call(`${gw.url}/r/get`);
  t.equal(r.status, 200, 'GET: 503 from the first instance, 200 from the retry');
  t.equal(bad!.seen.length, 1);
  t.equal(good!.seen.length, 1);
  r = await call(`${gw.url}/r/skip`); // lands on good: no retry needed
  t.equal(r.status, 200);
  r = await call(`${gw.url}/r/post`, { method: 'POST', body: 'x' });
  t.equal(r.status, 503, 'POST is not retried: the 503 reaches the client');
  t.equal(r.text, 'status 503', 'with the upstream body');
  t.equal(good!.seen.length, 2, 'the other instance never saw the POST');
  await call(`${gw.url}/r/skip`);
  r = await call(`${gw.url}/w/post`, { method: 'POST' });
  t.equal(r.status, 200, 'a POST without a body on a retryable route is retried');
  t.equal(good!.seen.at(-1)!.url, '/w/post');
});

t.test('a request whose body was streamed upstream is not retried', async (t) => {
  // The instance reads the whole body, then fails: the body cannot be replayed.
  const [reader, good] = await upstreams(
    t,
    (req, res) => {
      req.resume();
      req.on('end', () => status(503)(req, res));
    },
    echo,
  );
  const svc = service('s', [reader!.url, good!.url], { retry: { on: [503] }, outlierDetection: { enabled: false } });
  const gw = await startInProcess(snapshot([svc], [route('w', ['/*'], 's', { retryable: true })]));
  t.teardown(() => gw.close());
  const r = await call(`${gw.url}/put`, { method: 'PUT', body: 'payload' });
  t.equal(r.status, 503);
  t.equal(good!.seen.length, 0, 'no second try with a consumed body');
});

t.test('never a retry once the response started: a reset mid-body cuts the client', async (t) => {
  const [midway, good] = await upstreams(
    t,
    (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    },
    echo,
  );
  const svc = service('s', [midway!.url, good!.url], { retry: { on: ['reset', 'connect-failure', 'timeout', 502] }, outlierDetection: { enabled: false } });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  const res = await request(`${gw.url}/x`, { dispatcher: agent });
  t.equal(res.statusCode, 200, 'headers were already forwarded');
  await t.rejects(res.body.text(), 'the truncated body fails on the client');
  t.equal(good!.seen.length, 0, 'and no second try was made');
});

t.test('per-try timeout moves a hung try to another instance', async (t) => {
  const [hang, good] = await upstreams(t, () => {}, echo);
  const svc = service('s', [hang!.url, good!.url], { retry: { on: ['timeout'], perTryTimeoutMs: 150 }, outlierDetection: { enabled: false } });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  const r = await call(`${gw.url}/slow`);
  t.equal(r.status, 200);
  t.equal(hang!.seen.length, 1);
  t.equal(good!.seen.length, 1);
});

t.test('short deadlines are kept to the millisecond, not to undici\'s ~1 s timer ticks', async (t) => {
  // Two hung instances and a good one, round robin from the first: the request is served
  // only if both 150 ms per-try deadlines fire well inside the 900 ms total (undici's own
  // timers fire a 150 ms timeout at about 1 s, so the total would run out on the first).
  const [hang1, hang2, good] = await upstreams(t, () => {}, () => {}, echo);
  const svc = service('s', [hang1!.url, hang2!.url, good!.url], {
    loadBalancer: 'round-robin',
    retry: { attempts: 2, on: ['timeout'], perTryTimeoutMs: 150, totalTimeoutMs: 900, backoff: { baseMs: 1, maxMs: 2 } },
    outlierDetection: { enabled: false },
  });
  // A body that pauses 900 ms between chunks, against a 300 ms body idle timeout (undici's timer: ~1 s).
  const [trickle] = await upstreams(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first ');
    const later = setTimeout(() => res.end('late'), 900);
    res.on('close', () => clearTimeout(later));
  });
  const slowBody = service('b', [trickle!.url], { timeouts: { bodyMs: 300 }, retry: { attempts: 0 } });
  // A fast upstream body that a slow client reads: the client, not the upstream, is idle.
  const big = Buffer.alloc(16 * 1024 * 1024, 0x61);
  const [fast] = await upstreams(t, (_req, res) => {
    res.writeHead(200, { 'content-length': String(big.length) });
    res.end(big);
  });
  const slowClient = service('c', [fast!.url], { timeouts: { bodyMs: 300 }, retry: { attempts: 0 } });
  const gw = await startInProcess(
    snapshot([svc, slowBody, slowClient], [route('r', ['/r/*'], 's'), route('b', ['/b/*'], 'b'), route('c', ['/c/*'], 'c')]),
  );
  t.teardown(() => gw.close());
  const r = await call(`${gw.url}/r/x`);
  t.equal(r.status, 200, 'served by the third instance within the total deadline');
  t.match(gw.logs.find((l) => l.route === 'r'), { tries: 3, status: 200 });
  t.same([hang1!.seen.length, hang2!.seen.length, good!.seen.length], [1, 1, 1]);

  const body = await request(`${gw.url}/b/x`, { dispatcher: agent });
  t.equal(body.statusCode, 200);
  await t.rejects(body.body.text(), 'the body idle timeout cut the response before its next chunk (a reset: it must not look complete)');
  await sleep(50);
  t.match(gw.logs.find((l) => l.route === 'b'), { status: 200, error: 'GW_UPSTREAM_TIMEOUT', detail: /body/i });

  const paused = await request(`${gw.url}/c/x`, { dispatcher: agent, highWaterMark: 16 * 1024 });
  await sleep(900); // not reading: the gateway's writes back up and it stops reading the upstream
  let n = 0;
  for await (const chunk of paused.body) n += (chunk as Buffer).length;
  t.equal(n, big.length, 'a client slower than the idle timeout still gets the whole body');
  t.match(gw.logs.find((l) => l.route === 'c'), { status: 200, bytes: big.length });
});

t.test('a short headers deadline does not count the upload, and leaves pipelined pools to undici', async (t) => {
  const [reader] = await upstreams(t, (req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(`got ${n}`));
  });
  const [slow] = await upstreams(t, (req, res) => {
    if (req.url !== '/slow') return void res.end('fast');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('a');
    setTimeout(() => res.end('b'), 800);
  });
  const upload = service('u', [reader!.url], { timeouts: { headersMs: 400 }, retry: { attempts: 0 } });
  // One connection, two requests pipelined on it: the second is sent while the first streams.
  const piped = service('p', [slow!.url], { timeouts: { headersMs: 400 }, pool: { connections: 1, pipelining: 2 }, retry: { attempts: 0 } });
  const gw = await startInProcess(snapshot([upload, piped], [route('u', ['/u/*'], 'u', { methods: ['POST'] }), route('p', ['/p/*'], 'p', { stripPrefix: true })]));
  t.teardown(() => gw.close());

  // 3 chunks 300 ms apart: the upload takes longer than the 400 ms headers deadline.
  async function* trickle() {
    for (let i = 0; i < 3; i++) {
      yield Buffer.alloc(1000, 0x61);
      await sleep(300);
    }
  }
  const r = await request(`${gw.url}/u/up`, { dispatcher: agent, method: 'POST', body: Readable.from(trickle()) });
  t.same([r.statusCode, await r.body.text()], [200, 'got 3000'], 'the deadline ran from when the upload ended');

  const first = request(`${gw.url}/p/slow`, { dispatcher: agent }).then(async (x) => [x.statusCode, await x.body.text()]);
  await sleep(50);
  const second = request(`${gw.url}/p/fast`, { dispatcher: agent }).then(async (x) => [x.statusCode, await x.body.text()]);
  t.same(await first, [200, 'ab'], 'the response streaming on the shared connection is not cut');
  t.same(await second, [200, 'fast'], 'and the request pipelined behind it is not timed out while it waits its turn');
  t.same(slow!.seen.map((x) => x.url), ['/slow', '/fast'], 'each sent once');
});

t.test('Retry-After: honoured when short, passed to the client when longer than backoff.maxMs', async (t) => {
  let mode = '0';
  const [bad, good] = await upstreams(t, (req, res) => status(503, { 'retry-after': mode })(req, res), echo);
  const svc = service('s', [bad!.url, good!.url], { retry: { on: [503], backoff: { baseMs: 1, maxMs: 1000 } }, outlierDetection: { enabled: false } });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  let r = await call(`${gw.url}/a`);
  t.equal(r.status, 200, 'Retry-After: 0 → retried');
  await call(`${gw.url}/skip`);
  mode = '120';
  r = await call(`${gw.url}/b`);
  t.equal(r.status, 503, 'Retry-After: 120 s is longer than we hold a client');
  t.equal(r.headers['retry-after'], '120', 'the upstream hint reaches the client');
});

t.test('the retry budget caps amplification under a failing upstream', async (t) => {
  const [bad] = await upstreams(t, status(503));
  const svc = service('s', [bad!.url], {
    retry: { attempts: 3, on: [503], backoff: { baseMs: 1, maxMs: 2 }, budget: { percent: 20, minPerSecond: 0 } },
    limits: { maxRetries: 1000 },
    outlierDetection: { enabled: false },
  });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  const clients = 200;
  for (let i = 0; i < clients; i += 20) {
    await Promise.all(Array.from({ length: 20 }, () => call(`${gw.url}/x`)));
  }
  const upstreamRequests = bad!.seen.length;
  t.comment(`client requests ${clients}, upstream requests ${upstreamRequests} (${(upstreamRequests / clients).toFixed(3)}×)`);
  t.ok(upstreamRequests <= clients * 1.2, `upstream requests ≤ (1 + 20 %) × client requests (${upstreamRequests})`);
  t.ok(upstreamRequests > clients, 'retries did happen within the budget');
  const refused = gw.logs.filter((l) => l.route === 'r' && l.tries === 1).length;
  t.ok(refused >= clients - 40, 'most requests were answered without a retry once the budget was spent');
});

t.test('resource limits answer 503 GW_UPSTREAM_OVERLOADED at once', async (t) => {
  const [slow] = await upstreams(t, (req, res) => setTimeout(() => echo(req, res), 300));
  const svc = service('s', [slow!.url], { limits: { maxRequests: 2 } });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  const results = await Promise.all(Array.from({ length: 4 }, (_, i) => call(`${gw.url}/${i}`)));
  const statuses = results.map((r) => r.status).sort();
  t.same(statuses, [200, 200, 503, 503]);
  const over = results.find((r) => r.status === 503)!;
  t.equal(JSON.parse(over.text).error.code, 'GW_UPSTREAM_OVERLOADED');
  t.equal(slow!.seen.length, 2, 'refused requests never reached the upstream');
  t.equal((await call(`${gw.url}/after`)).status, 200, 'capacity comes back when requests finish');
});

t.test('ejection, half-open probe and recovery', async (t) => {
  let failing = true;
  const [flaky, good] = await upstreams(t, (req, res) => (failing ? status(500) : echo)(req, res), echo);
  const svc = service('s', [flaky!.url, good!.url], {
    retry: { attempts: 0 },
    outlierDetection: { consecutive5xx: 3, baseEjectionMs: 400, maxEjectionPercent: 50 },
  });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  for (let i = 0; i < 6; i++) await call(`${gw.url}/${i}`);
  t.equal(flaky!.seen.length, 3, 'three 500s in a row eject the instance');
  for (let i = 0; i < 10; i++) t.equal((await call(`${gw.url}/e${i}`)).status, 200);
  t.equal(flaky!.seen.length, 3, 'ejected: no traffic');
  const ejected = gw.logs.find((l) => l.msg === 'outlier detection ejected an upstream instance');
  t.match(ejected, { event: 'eject', localEjections: 1 }, "the worker's own count, named as such");
  t.ok(typeof ejected?.ejectedForMs === 'number' && ejected.ejectedForMs > 0 && ejected.ejectedForMs <= 400, 'and for how long, relative like the primary\'s line');
  await sleep(450);
  // Half-open: of 6 concurrent requests exactly one is the probe, which still fails → re-ejected for 2 × base.
  await Promise.all(Array.from({ length: 6 }, (_, i) => call(`${gw.url}/p${i}`)));
  t.equal(flaky!.seen.length, 4, 'exactly one probe in half-open, even with concurrent requests');
  failing = false;
  for (let i = 0; i < 6; i++) await call(`${gw.url}/q${i}`);
  t.equal(flaky!.seen.length, 4, 'a failed probe re-ejects (now for 800 ms)');
  await sleep(850);
  for (let i = 0; i < 6; i++) await call(`${gw.url}/r${i}`);
  t.ok(flaky!.seen.length >= 6, 'the successful probe closed the breaker: traffic is balanced again');
  t.ok(gw.logs.some((l) => l.event === 'recover'), 'recovery logged');
});

t.test('panic mode routes to every instance when too few are available; without it, 503', async (t) => {
  const [a, b] = await upstreams(t, status(500), status(500));
  const mk = (panicThresholdPercent: number) =>
    service('s', [a!.url, b!.url], {
      retry: { attempts: 0 },
      outlierDetection: { consecutive5xx: 1, baseEjectionMs: 60_000, maxEjectionPercent: 100, panicThresholdPercent },
    });
  const gw = await startInProcess(snapshot([mk(50)], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  await call(`${gw.url}/1`);
  await call(`${gw.url}/2`);
  t.equal(a!.seen.length + b!.seen.length, 2);
  t.equal(gw.logs.filter((l) => l.event === 'eject').length, 2, 'both instances ejected after one 500 each');
  const r = await call(`${gw.url}/3`);
  t.equal(r.status, 500, 'panic: the request still goes to an (ejected) instance');
  t.equal(a!.seen.length + b!.seen.length, 3);

  const strict = await startInProcess(snapshot([mk(0)], [route('r', ['/*'], 's')]));
  t.teardown(() => strict.close());
  await call(`${strict.url}/1`);
  await call(`${strict.url}/2`);
  t.equal(strict.logs.filter((l) => l.event === 'eject').length, 2);
  const dark = await call(`${strict.url}/3`);
  t.equal(dark.status, 503, 'panic disabled: nothing to send to');
  t.equal(JSON.parse(dark.text).error.code, 'GW_NO_UPSTREAM');
});

t.test('limits.maxRetries caps concurrent retries even while failed responses are still being read', async (t) => {
  // A 503 whose body takes a while: every concurrent failure decides before any retry is sent.
  const [slow] = await upstreams(t, (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.write('x');
    setTimeout(() => res.end('y'), 150);
  });
  const svc = service('s', [slow!.url], {
    retry: { attempts: 1, on: [503], backoff: { baseMs: 1, maxMs: 2 }, budget: { percent: 100, minPerSecond: 1000 } },
    limits: { maxRetries: 1 },
    outlierDetection: { enabled: false },
  });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(`${gw.url}/${i}`)));
  t.ok(results.every((r) => r.status === 503));
  const retried = gw.logs.filter((l) => l.route === 'r' && l.tries === 2).length;
  t.equal(retried, 1, 'one retry slot, held from the decision until the retry ended');
  t.equal(slow!.seen.length, 21);
});

t.test('a client that leaves while a failed response is discarded is not retried for', async (t) => {
  const [slow, good] = await upstreams(
    t,
    (_req, res) => {
      res.writeHead(503);
      res.write('x');
      setTimeout(() => res.end(), 300);
    },
    echo,
  );
  const svc = service('s', [slow!.url, good!.url], { retry: { on: [503], backoff: { baseMs: 1, maxMs: 2 } }, outlierDetection: { enabled: false } });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  const ac = new AbortController();
  const pending = request(`${gw.url}/gone`, { dispatcher: agent, signal: ac.signal }).catch(() => null);
  await sleep(100);
  ac.abort();
  await pending;
  await sleep(400);
  t.equal(good!.seen.length, 0, 'no retry was sent for a client that left');
  t.match(gw.logs.find((l) => l.route === 'r'), { status: 499, error: 'GW_CLIENT_CLOSED' });
  const svcState = gw.handler.table.services.get('s')!;
  t.same([svcState.active, svcState.pending, svcState.retriesActive], [0, 0, 0], 'no counter leaked');
});

t.test('a retry of a retry keeps its call\'s one maxRetries slot, and gives it back', async (t) => {
  const [bad1, bad2, good] = await upstreams(t, status(503), status(503), echo);
  const svc = service('s', [bad1!.url, bad2!.url, good!.url], {
    loadBalancer: 'round-robin',
    retry: { attempts: 2, on: [503], backoff: { baseMs: 1, maxMs: 2 }, budget: { percent: 100, minPerSecond: 100 } },
    limits: { maxRetries: 1 },
    outlierDetection: { enabled: false },
  });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  const state = gw.handler.table.services.get('s')!;
  // One at a time, so each call is alone with the one slot: any leaked slot refuses the next retry.
  for (let i = 0; i < 4; i++) {
    const r = await call(`${gw.url}/${i}`);
    t.equal(r.status, 200, `request ${i}: a healthy instance answers within its tries`);
    t.equal(state.retriesActive, 0, `request ${i}: the slot was given back`);
  }
  const threeTries = gw.logs.filter((l) => l.route === 'r' && l.tries === 3);
  t.ok(threeTries.length >= 1, 'some requests met both failing instances first (3 tries)');
  const metrics = await call(`${gw.url}/__gateway/metrics`);
  t.notMatch(metrics.text, /gateway_upstream_retries_total\{[^}]*result="limit"[^}]*\} [1-9]/, 'no retry was refused for want of a slot');
});

t.test('round robin with a failing instance of two: retries do not hand it every first try', async (t) => {
  const [bad, good] = await upstreams(t, status(503), echo);
  const svc = service('s', [bad!.url, good!.url], { loadBalancer: 'round-robin', retry: { on: [503], backoff: { baseMs: 1, maxMs: 2 } }, outlierDetection: { enabled: false } });
  const gw = await startInProcess(snapshot([svc], [route('r', ['/*'], 's')]));
  t.teardown(() => gw.close());
  for (let i = 0; i < 10; i++) t.equal((await call(`${gw.url}/${i}`)).status, 200);
  t.equal(bad!.seen.length, 5, 'the failing instance got half of the first tries');
  t.equal(good!.seen.length, 10, 'the other one every answer');
});
