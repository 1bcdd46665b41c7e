/**
 * Text rendering of Jaeger traces for the terminal: one trace as an indented span tree
 * (parent → children by CHILD_OF reference, siblings by start time) and a list of traces
 * as a table. Spans whose parent is not in the trace are shown as extra roots, marked,
 * so a partly exported trace is still readable.
 */
import type { JaegerSpan, JaegerTag, JaegerTrace } from './jaeger-query-client.js';

// Tags every span carries that say nothing about this span.
const NOISE = new Set(['otel.library.name', 'otel.library.version', 'service.name', 'span.kind', 'otel.status_code', 'otel.status_description', 'error']);

/** `1234` µs → `1.234 ms`; long durations in seconds. */
export function formatDuration(us: number): string {
  if (us >= 10_000_000) return `${(us / 1_000_000).toFixed(2)} s`;
  return `${(us / 1000).toFixed(3)} ms`;
}

const tagOf = (s: JaegerSpan, key: string): JaegerTag | undefined => s.tags?.find((t) => t.key === key);

/** `ERROR` when the span is marked failed, else `OK`. */
export function spanStatus(s: JaegerSpan): string {
  const error = tagOf(s, 'error')?.value === true || tagOf(s, 'otel.status_code')?.value === 'ERROR';
  return error ? 'ERROR' : 'OK';
}

function parentOf(s: JaegerSpan): string | null {
  return s.references?.find((r) => r.refType === 'CHILD_OF')?.spanID ?? null;
}

/** Earliest start and latest end over the spans, in µs. */
function extent(spans: readonly JaegerSpan[]): { start: number; end: number } {
  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    start = Math.min(start, s.startTime);
    end = Math.max(end, s.startTime + s.duration);
  }
  return { start, end };
}

/** Spans without a parent in the trace, earliest first. */
function roots(trace: JaegerTrace): JaegerSpan[] {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  return trace.spans.filter((s) => parentOf(s) === null || !ids.has(parentOf(s)!)).sort((a, b) => a.startTime - b.startTime);
}

/** One trace as a span tree with durations, status and tags. */
export function renderTrace(trace: JaegerTrace): string {
  const { start, end } = extent(trace.spans);
  const children = new Map<string, JaegerSpan[]>();
  for (const s of trace.spans) {
    const p = parentOf(s);
    if (p !== null) children.set(p, [...(children.get(p) ?? []), s]);
  }
  for (const list of children.values()) list.sort((a, b) => a.startTime - b.startTime);
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const lines = [
    `trace ${trace.traceID}: ${trace.spans.length} span${trace.spans.length === 1 ? '' : 's'}, ` +
      `${formatDuration(end - start)}, started ${new Date(start / 1000).toISOString()}`,
    '',
  ];
  const visit = (s: JaegerSpan, lead: string, branch: string, depth: number): void => {
    const service = trace.processes[s.processID]?.serviceName ?? s.processID;
    const kind = tagOf(s, 'span.kind')?.value;
    const orphan = parentOf(s) !== null && !ids.has(parentOf(s)!) ? `  (parent ${parentOf(s)} not in trace)` : '';
    lines.push(
      `${lead}${branch}${s.operationName}  [${service}${kind === undefined ? '' : ` ${kind}`}]  ${formatDuration(s.duration)}  ` +
        `${spanStatus(s)}  +${formatDuration(s.startTime - start)}  span ${s.spanID}${orphan}`,
    );
    const kids = depth > 64 ? [] : (children.get(s.spanID) ?? []); // a reference cycle must not recurse forever
    const inner = lead + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ');
    const tags = (s.tags ?? []).filter((t) => !NOISE.has(t.key));
    const bar = kids.length > 0 ? '│  ' : '   ';
    for (const t of tags) lines.push(`${inner}${bar}  ${t.key}=${typeof t.value === 'string' ? t.value : JSON.stringify(t.value)}`);
    kids.forEach((k, i) => visit(k, inner, i === kids.length - 1 ? '└─ ' : '├─ ', depth + 1));
  };
  for (const r of roots(trace)) visit(r, '', '', 0);
  return lines.join('\n') + '\n';
}

/** Recent traces as a table: id, root span, span count, duration, start. */
export function renderTraceList(traces: readonly JaegerTrace[]): string {
  const rows = traces.map((t) => {
    const { start, end } = extent(t.spans);
    const root = roots(t)[0];
    const service = root === undefined ? '' : (t.processes[root.processID]?.serviceName ?? '');
    return [
      t.traceID,
      root === undefined ? '-' : `${root.operationName} [${service}]${spanStatus(root) === 'ERROR' ? ' ERROR' : ''}`,
      String(t.spans.length),
      formatDuration(end - start),
      Number.isFinite(start) ? new Date(start / 1000).toISOString() : '-',
    ];
  });
  const head = ['TRACE ID', 'ROOT SPAN', 'SPANS', 'DURATION', 'START'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
