/** Span-tree and trace-list rendering: ordering, orphans, cycles, status, durations. */
import t from 'tap';
import { formatDuration, renderTrace, renderTraceList, spanStatus } from '../../../src/commands/trace-tree.js';
import type { JaegerSpan, JaegerTrace } from '../../../src/commands/jaeger-query-client.js';

const span = (id: string, parent: string | null, start: number, duration: number, extra: Partial<JaegerSpan> = {}): JaegerSpan => ({
  traceID: 'abc',
  spanID: id,
  operationName: `op-${id}`,
  references: parent === null ? [] : [{ refType: 'CHILD_OF', traceID: 'abc', spanID: parent }],
  startTime: start,
  duration,
  tags: [],
  processID: 'p1',
  ...extra,
});
const trace = (spans: JaegerSpan[]): JaegerTrace => ({ traceID: 'abc', spans, processes: { p1: { serviceName: 'svc' } } });

t.test('durations: milliseconds with µs precision, seconds when long', async (t) => {
  t.equal(formatDuration(1234), '1.234 ms');
  t.equal(formatDuration(0), '0.000 ms');
  t.equal(formatDuration(12_345_678), '12.35 s');
});

t.test('status: error tag or otel status ERROR', async (t) => {
  t.equal(spanStatus(span('a', null, 0, 1, { tags: [{ key: 'error', type: 'bool', value: true }] })), 'ERROR');
  t.equal(spanStatus(span('a', null, 0, 1, { tags: [{ key: 'otel.status_code', type: 'string', value: 'ERROR' }] })), 'ERROR');
  t.equal(spanStatus(span('a', null, 0, 1, { tags: null })), 'OK');
});

t.test('children are ordered by start, whatever order Jaeger lists them in', async (t) => {
  const out = renderTrace(trace([span('c', 'r', 300, 10), span('r', null, 0, 1000), span('b', 'r', 100, 10)]));
  const names = out.split('\n').filter((l) => l.includes('op-')).map((l) => l.split('  ')[0]);
  t.same(names, ['op-r', '├─ op-b', '└─ op-c']);
});

t.test('a span whose parent is missing is shown as another root, marked', async (t) => {
  const out = renderTrace(trace([span('r', null, 0, 100), span('x', 'gone', 50, 10)]));
  t.match(out, /^op-x .*\(parent gone not in trace\)$/m);
  t.match(out, /^op-r /m);
});

t.test('a reference cycle does not recurse forever', async (t) => {
  // a → b → a, plus a root so something is drawn.
  const out = renderTrace(trace([span('root', null, 0, 10), span('a', 'b', 1, 1), span('b', 'a', 2, 1)]));
  t.match(out, /op-root/);
  t.ok(out.split('\n').length < 200);
});

t.test('the list shows id, root span, count, duration and start per trace', async (t) => {
  const out = renderTraceList([
    trace([span('r', null, 1_700_000_000_000_000, 2000), span('k', 'r', 1_700_000_000_000_500, 2500, { tags: [{ key: 'error', value: true }] })]),
  ]);
  const [head, row] = out.split('\n');
  t.match(head, /^TRACE ID +ROOT SPAN +SPANS +DURATION +START$/);
  t.match(row, /^abc +op-r \[svc\] +2 +3\.000 ms +2023-11-14T22:13:20\.000Z$/, 'duration spans the latest end');
});
