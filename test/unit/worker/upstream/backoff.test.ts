/** Full-jitter backoff bounds and Retry-After parsing. */
import t from 'tap';
import { fullJitterBackoff, parseRetryAfter } from '../../../../src/worker/upstream/index.js';

t.test('full jitter stays in [0, min(max, base·2^n))', async (t) => {
  t.equal(fullJitterBackoff(0, 25, 250, () => 0), 0);
  t.equal(fullJitterBackoff(0, 25, 250, () => 0.999999), 24);
  t.equal(fullJitterBackoff(2, 25, 250, () => 0.5), 50, '25·4 = 100, half of it');
  t.equal(fullJitterBackoff(10, 25, 250, () => 0.999999), 249, 'capped at maxMs');
  t.equal(fullJitterBackoff(1000, 25, 250, () => 0.5), 125, 'huge retry counts do not overflow');
  for (let i = 0; i < 1000; i++) {
    const v = fullJitterBackoff(i % 8, 10, 300);
    if (v < 0 || v >= 300) t.fail(`out of range: ${v}`);
  }
});

t.test('Retry-After: seconds, HTTP-date, junk', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(parseRetryAfter('3', now), 3000);
  t.equal(parseRetryAfter(' 0 ', now), 0);
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now), 2000);
  t.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a past date means now');
  t.equal(parseRetryAfter(undefined, now), null);
  t.equal(parseRetryAfter('-1', now), null);
  t.equal(parseRetryAfter('1.5', now), null);
  t.equal(parseRetryAfter('soon', now), null);
  t.equal(parseRetryAfter('Thu, 99 Foo 2026 GMT', now), null);
});
