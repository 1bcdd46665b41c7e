/** The retry budget: retries ≤ percent × requests + minPerSecond × 10 s, over a sliding window. */
import t from 'tap';
import { RetryBudget } from '../../../../src/worker/upstream/index.js';

t.test('retries never exceed percent of requests (+ the minimum) within the window', async (t) => {
  const b = new RetryBudget(20, 0);
  const now = 1_000_000;
  for (let i = 0; i < 100; i++) b.recordRequest(now);
  let granted = 0;
  for (let i = 0; i < 100; i++) if (b.tryRetry(now)) granted++;
  t.equal(granted, 20, '20 % of 100 requests');
  b.recordRequest(now);
  b.recordRequest(now);
  b.recordRequest(now);
  b.recordRequest(now);
  t.notOk(b.tryRetry(now), '104 requests → 20.8: still 20');
  b.recordRequest(now);
  t.ok(b.tryRetry(now), '105 requests → 21 retries');
});

t.test('minPerSecond lets a quiet service retry; the window slides', async (t) => {
  const b = new RetryBudget(0, 1); // 10 retries per 10 s window, no ratio
  let now = 5_000_000;
  let granted = 0;
  for (let i = 0; i < 50; i++) if (b.tryRetry(now)) granted++;
  t.equal(granted, 10, 'minimum of 1/s over a 10 s window');
  now += 5_000;
  t.notOk(b.tryRetry(now), 'half a window later the old retries still count');
  now += 5_001;
  t.ok(b.tryRetry(now), 'a full window later they have expired');
});

t.test('a clock step backwards does not clear the window', async (t) => {
  const b = new RetryBudget(50, 0);
  const now = 9_000_000;
  b.recordRequest(now);
  b.recordRequest(now);
  t.ok(b.tryRetry(now));
  t.notOk(b.tryRetry(now - 60_000), 'the earlier clock still sees the spent budget');
});
