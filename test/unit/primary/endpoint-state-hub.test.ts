/** The primary's node-wide breaker/health state: authority over ejections, broadcasts, status. */
import t from 'tap';
import pino from 'pino';
import type { Worker } from 'node:cluster';
import { EndpointStateHub } from '../../../src/primary/endpoint-state-hub.js';
import type { EndpointStatesMessage } from '../../../src/ipc/index.js';
import { service, snapshot, route } from '../../helpers/snapshot.js';

function fakeWorker(inbox: EndpointStatesMessage[]): Worker {
  return { isConnected: () => true, send: (m: EndpointStatesMessage) => void inbox.push(m) } as unknown as Worker;
}

function setup(urls: string[], over: Parameters<typeof service>[2] = {}, listening = false) {
  let now = 1_000_000;
  const inbox: EndpointStatesMessage[] = [];
  const w = fakeWorker(inbox);
  const hub = new EndpointStateHub({ workers: () => (listening ? [w] : []), logger: pino({ level: 'silent' }), now: () => now });
  hub.setSnapshot(snapshot([service('s', urls, over)], [route('r', ['/*'], 's')]));
  listening = true;
  return { hub, inbox, w, advance: (ms: number) => (now += ms), now: () => now };
}

t.test('an ejection report is decided, timed by the node-wide count, and broadcast', async (t) => {
  const { hub, inbox, advance, now } = setup(['http://a', 'http://b', 'http://c', 'http://d'], {
    outlierDetection: { baseEjectionMs: 1000, maxEjectionMs: 2500, maxEjectionPercent: 50 },
  });
  hub.report('s', 'http://a', 'eject');
  t.equal(inbox.length, 1);
  t.match(inbox[0]!.states, [{ service: 's', url: 'http://a', ejectedUntil: now() + 1000, ejections: 1, healthy: true }]);
  hub.report('s', 'http://a', 'eject');
  t.equal(inbox[1]!.states[0]!.ejectedUntil, now() + 1000, 'a second report while ejected changes nothing');
  advance(1000);
  hub.report('s', 'http://a', 'eject');
  t.match(inbox[2]!.states[0], { ejectedUntil: now() + 2000, ejections: 2 }, 'half-open failure: longer ejection');
  advance(2000);
  hub.report('s', 'http://a', 'recover');
  t.match(inbox[3]!.states[0], { ejectedUntil: 0, ejections: 2 });
  advance(10_000);
  hub.report('s', 'http://a', 'eject');
  t.match(inbox[4]!.states[0], { ejections: 1 }, 'ejections long past are forgotten');
});

t.test('maxEjectionPercent is enforced node-wide', async (t) => {
  const { hub, inbox } = setup(['http://a', 'http://b', 'http://c', 'http://d'], { outlierDetection: { maxEjectionPercent: 25 } });
  hub.report('s', 'http://a', 'eject');
  hub.report('s', 'http://b', 'eject');
  t.notOk(inbox[0]!.states[0]!.ejectedUntil === 0, 'a ejected');
  t.equal(inbox[1]!.states[0]!.ejectedUntil, 0, 'b refused: 25 % of 4 = 1 already out; the reporter is told');
});

t.test('health verdicts, new workers, unknown instances, status document', async (t) => {
  const { hub, inbox, w } = setup(['http://a', 'http://b'], { healthCheck: { enabled: true } });
  hub.health('s', 'http://a', false, 'GET /health answered 503');
  t.match(inbox.at(-1)!.states, [{ url: 'http://a', healthy: false }]);
  const n = inbox.length;
  hub.health('s', 'http://a', false, 'again');
  t.equal(inbox.length, n, 'no change, no broadcast');
  hub.report('s', 'http://gone', 'eject');
  hub.report('other', 'http://a', 'eject');
  t.equal(inbox.length, n, 'reports about instances not in the config are ignored');
  hub.sendAll(w);
  t.same(inbox.at(-1)!.states.map((s) => s.url), ['http://a', 'http://b'], 'a new worker gets the state of every instance');
  const [svc] = hub.status() as { name: string; available: number; total: number; panic: boolean; instances: { url: string; health: string; breaker: string }[] }[];
  t.match(svc, { name: 's', available: 1, total: 2, panic: false });
  t.match(svc!.instances, [{ url: 'http://a', health: 'unhealthy', breaker: 'closed' }, { url: 'http://b', health: 'healthy', breaker: 'closed' }]);
  hub.health('s', 'http://b', false, 'down');
  hub.setSnapshot(snapshot([service('s', ['http://b'], { healthCheck: { enabled: true } })], [route('r', ['/*'], 's')]));
  t.match(inbox.at(-1), { full: true, states: [{ url: 'http://b', healthy: false }] }, 'a new snapshot pushes the full state; removed instances are gone');
  hub.sendAll(w);
  t.same(inbox.at(-1)!.states.map((s) => s.url), ['http://b']);
});

t.test('a reload that turns checks or detection off resets what they had decided', async (t) => {
  const { hub, inbox } = setup(['http://a', 'http://b'], { healthCheck: { enabled: true } });
  hub.health('s', 'http://a', false, 'down');
  hub.report('s', 'http://b', 'eject');
  hub.setSnapshot(snapshot([service('s', ['http://a', 'http://b'], { outlierDetection: { enabled: false } })], [route('r', ['/*'], 's')]));
  t.match(inbox.at(-1), { full: true, states: [{ url: 'http://a', healthy: true, ejectedUntil: 0 }, { url: 'http://b', healthy: true, ejectedUntil: 0 }] });
});

t.test('during a rolling reload, reports about the new config\'s instances are accepted', async (t) => {
  const { hub, inbox } = setup(['http://a']);
  hub.report('s', 'http://new', 'eject');
  const n = inbox.length;
  hub.prepare(snapshot([service('s', ['http://a', 'http://new'])], [route('r', ['/*'], 's')]));
  hub.report('s', 'http://new', 'eject');
  t.equal(inbox.length, n + 1);
  t.not(inbox.at(-1)!.states[0]!.ejectedUntil, 0);
});
