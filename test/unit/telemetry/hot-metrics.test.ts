/** The hot-path metrics expose exactly what prom-client's own metrics would. */
import t from 'tap';
import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../../src/telemetry/hot-metrics.js';
import { aggregateMetrics, methodLabel, statusClass } from '../../../src/telemetry/index.js';

const BUCKETS = [0.01, 0.1, 1];
const observations: [string, number][] = [['a', 0.005], ['a', 0.05], ['b', 0.5], ['a', 3], ['b', 0.1]];

t.test('counter and histogram pages are identical to prom-client for the same data', async (t) => {
  const ref = new Registry();
  const refCounter = new Counter({ name: 'c_total', help: 'c', labelNames: ['route', 'code'], registers: [ref] });
  const refHist = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['route'], buckets: BUCKETS, registers: [ref] });
  const hot = new Registry();
  const hotCounter = new HotCounter('c_total', 'c', ['route', 'code'], hot);
  const hotHist = new HotHistogram('h_seconds', 'h', ['route'], BUCKETS, hot);
  for (const [route, v] of observations) {
    refCounter.inc({ route, code: '2xx' });
    hotCounter.inc([route, '2xx']);
    refHist.observe({ route }, v);
    hotHist.observe([route], v);
  }
  t.equal(await hot.metrics(), await ref.metrics());
});

t.test('aggregation across processes sums hot metrics like prom-client ones', async (t) => {
  const parts = [];
  for (let i = 0; i < 2; i++) {
    const r = new Registry();
    const c = new HotCounter('c_total', 'c', ['route'], r);
    const h = new HotHistogram('h_seconds', 'h', ['route'], BUCKETS, r);
    c.inc(['a'], 3);
    h.observe(['a'], 0.05);
    parts.push(await r.getMetricsAsJSON());
  }
  const { text } = await aggregateMetrics(parts);
  t.match(text, /^c_total\{route="a"\} 6$/m);
  t.match(text, /^h_seconds_bucket\{le="0\.1",route="a"\} 2$/m);
  t.match(text, /^h_seconds_count\{route="a"\} 2$/m);
});

t.test('label folding keeps label sets bounded', async (t) => {
  t.equal(methodLabel('GET'), 'GET');
  t.equal(methodLabel('PROPFIND'), 'OTHER');
  t.equal(methodLabel(undefined), 'OTHER');
  t.equal(statusClass(204), '2xx');
  t.equal(statusClass(503), '5xx');
  t.equal(statusClass(499), '499');
});

t.test('series are told apart by every label value, prefixes shared or not', async (t) => {
  const ref = new Registry();
  const refCounter = new Counter({ name: 'r_total', help: 'r', labelNames: ['route', 'method', 'status'], registers: [ref] });
  const hot = new Registry();
  const hotCounter = new HotCounter('r_total', 'r', ['route', 'method', 'status'], hot);
  // Shared prefixes, a value that is another's prefix, and values a joined key would confuse.
  const sets: [string, string, string][] = [
    ['a', 'GET', '2xx'], ['a', 'GET', '5xx'], ['a', 'POST', '2xx'], ['ab', 'GET', '2xx'],
    ['a\u0000GET', '2xx', 'x'], ['a', 'GET\u00002xx', 'x'], ['', '', ''],
  ];
  sets.forEach((labels, i) => {
    for (let n = 0; n <= i; n++) {
      refCounter.inc({ route: labels[0], method: labels[1], status: labels[2] });
      hotCounter.inc(labels);
    }
  });
  t.equal(await hot.metrics(), await ref.metrics());
  hotCounter.reset();
  hotCounter.inc(['a', 'GET', '2xx'], 2);
  t.match(await hot.metrics(), /^r_total\{route="a",method="GET",status="2xx"\} 2$/m);
  t.notMatch(await hot.metrics(), /status="5xx"/, 'reset forgets every series');
});

t.test('a metric without labels keeps one series', async (t) => {
  const hot = new Registry();
  const c = new HotCounter('n_total', 'n', [], hot);
  c.inc([]);
  c.inc([], 4);
  t.match(await hot.metrics(), /^n_total 5$/m);
});
