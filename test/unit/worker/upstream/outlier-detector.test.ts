/** The breaker: ejection rules, growing ejection time, half-open probes, caps and panic. */
import t from 'tap';
import { OutlierDetector } from '../../../../src/worker/upstream/index.js';
import { newOutlierState } from '../../../../src/worker/upstream/outlier-detector.js';
import type { OutlierConfig } from '../../../../src/ipc/index.js';

const base: OutlierConfig = {
  enabled: true,
  consecutive5xx: 5,
  consecutiveGatewayFailure: 3,
  failureRate: { percent: 0, minRequests: 20, windowMs: 10_000 },
  baseEjectionMs: 1000,
  maxEjectionMs: 2500,
  maxEjectionPercent: 50,
  panicThresholdPercent: 50,
};

function setup(n: number, over: Partial<OutlierConfig> = {}) {
  const config = { ...base, ...over };
  const states = Array.from({ length: n }, () => newOutlierState(config));
  return { d: new OutlierDetector(config, states), states };
}

t.test('consecutive gateway failures eject; a success in between resets the count', async (t) => {
  const { d, states } = setup(4);
  const s = states[0]!;
  t.equal(d.record(s, 'gateway-failure', 0), null);
  t.equal(d.record(s, 'gateway-failure', 0), null);
  t.equal(d.record(s, 'success', 0), null);
  t.equal(d.record(s, 'gateway-failure', 0), null);
  t.equal(d.record(s, 'gateway-failure', 0), null);
  t.equal(d.record(s, 'gateway-failure', 10), 'eject', 'third in a row');
  t.equal(s.ejectedUntil, 1010);
  t.notOk(d.admits(s, 500), 'open: no traffic');
});

t.test('consecutive 5xx (500s) eject at their own threshold', async (t) => {
  const { d, states } = setup(4);
  const s = states[1]!;
  for (let i = 0; i < 4; i++) t.equal(d.record(s, '5xx', 0), null);
  t.equal(d.record(s, '5xx', 0), 'eject');
});

t.test('half-open: one probe at a time; success closes, failure re-ejects for longer (capped)', async (t) => {
  const { d, states } = setup(4);
  const s = states[0]!;
  for (let i = 0; i < 3; i++) d.record(s, 'gateway-failure', 0);
  t.equal(s.ejectedUntil, 1000);
  t.ok(d.admits(s, 1000), 'half-open after the ejection time');
  d.tryStarted(s, 1000);
  t.notOk(d.admits(s, 1001), 'only one probe in flight');
  t.equal(d.record(s, 'success', 1050), null, 'a try that is not the probe decides nothing in half-open');
  t.equal(d.record(s, 'gateway-failure', 1100, true), 'eject', 'failed probe re-ejects at once');
  t.equal(s.ejectedUntil, 1100 + 2000, 'second ejection lasts 2 × base');
  d.tryStarted(s, 3100);
  t.equal(d.record(s, '5xx', 3200, true), 'eject');
  t.equal(s.ejectedUntil, 3200 + 2500, 'third is capped at maxEjectionMs');
  d.tryStarted(s, 6000);
  t.equal(d.record(s, 'success', 6000, true), 'recover');
  t.equal(s.ejectedUntil, 0);
  t.ok(d.admits(s, 6001), 'closed again');
});

t.test('results of tries that started before the ejection do not extend it', async (t) => {
  const { d, states } = setup(4);
  const s = states[0]!;
  for (let i = 0; i < 3; i++) d.record(s, 'gateway-failure', 0);
  t.equal(d.record(s, 'gateway-failure', 10), null);
  t.equal(s.ejectedUntil, 1000);
});

t.test('maxEjectionPercent caps ejections, but one instance may always be ejected', async (t) => {
  const { d, states } = setup(4); // 50 % of 4 = 2
  for (const s of states.slice(0, 3)) for (let i = 0; i < 3; i++) d.record(s, 'gateway-failure', 0);
  t.same(states.map((s) => s.ejectedUntil !== 0), [true, true, false, false]);
  const one = setup(2, { maxEjectionPercent: 10 });
  for (const s of one.states) for (let i = 0; i < 3; i++) one.d.record(s, 'gateway-failure', 0);
  t.same(one.states.map((s) => s.ejectedUntil !== 0), [true, false], 'floor(10 % of 2) = 0, but one may go');
});

t.test('panic when fewer than the threshold can take traffic (ejected or unhealthy)', async (t) => {
  const { d, states } = setup(4, { maxEjectionPercent: 100 });
  t.notOk(d.panic(0));
  for (const s of states.slice(0, 2)) for (let i = 0; i < 3; i++) d.record(s, 'gateway-failure', 0);
  t.notOk(d.panic(1), '2 of 4 available = 50 %: not below');
  states[2]!.healthy = false;
  t.ok(d.panic(1), '1 of 4 available');
  t.notOk(d.panic(1000), 'ejections over (half-open counts as available): 3 of 4');
  const never = setup(2, { panicThresholdPercent: 0, maxEjectionPercent: 100 });
  for (const s of never.states) for (let i = 0; i < 3; i++) never.d.record(s, 'gateway-failure', 0);
  t.notOk(never.d.panic(1), 'threshold 0 never panics');
});

t.test('failure rate over the window ejects once minRequests is reached', async (t) => {
  const { d, states } = setup(4, { consecutive5xx: 0, consecutiveGatewayFailure: 0, failureRate: { percent: 50, minRequests: 10, windowMs: 10_000 } });
  const s = states[0]!;
  let event: string | null = null;
  for (let i = 0; i < 9; i++) event = d.record(s, i % 2 === 0 ? '5xx' : 'success', i);
  t.equal(event, null, '9 tries: below minRequests');
  t.equal(d.record(s, '5xx', 9), 'eject', '6 failures of 10 = 60 %');
  const fresh = setup(4, { consecutive5xx: 0, consecutiveGatewayFailure: 0, failureRate: { percent: 50, minRequests: 10, windowMs: 10_000 } });
  const f = fresh.states[0]!;
  for (let i = 0; i < 10; i++) fresh.d.record(f, 'success', 0);
  for (let i = 0; i < 9; i++) t.equal(fresh.d.record(f, '5xx', 20_000 + i), null, 'old successes expired; 9 < minRequests');
});

t.test('disabled detection never ejects and ignores ejections left from before', async (t) => {
  const { d, states } = setup(2, { enabled: false });
  for (let i = 0; i < 50; i++) t.equal(d.record(states[0]!, 'gateway-failure', i), null);
  states[1]!.ejectedUntil = 10_000; // e.g. pushed by the primary before a reload turned detection off
  t.ok(d.admits(states[1]!, 5), 'a stale ejection does not keep traffic away');
  t.notOk(d.panic(5));
});

t.test('an abandoned probe (client gone) frees half-open for the next one', async (t) => {
  const { d, states } = setup(4);
  const s = states[0]!;
  for (let i = 0; i < 3; i++) d.record(s, 'gateway-failure', 0);
  t.notOk(d.tryStarted(s, 500), 'still open: not a probe');
  t.ok(d.tryStarted(s, 1000), 'the first try after the ejection is the probe');
  t.notOk(d.tryStarted(s, 1000), 'a second one is not');
  t.notOk(d.admits(s, 1000));
  d.probeAbandoned(s);
  t.ok(d.admits(s, 1001), 'another probe may go');
});
