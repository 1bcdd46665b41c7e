/**
 * Counters and histograms for the per-request path. prom-client's own `inc(labels)` /
 * `observe(labels, v)` validate and hash the label object on every call, which costs a
 * measurable share of a proxied request (seen in CPU profiles of the bench). These keep
 * one series object per label combination, looked up by its label values (SeriesIndex), and expose
 * the same JSON shape as prom-client's metrics through `get()`, so the registry formats
 * and the primary aggregates them like any other metric.
 */
import type { Registry } from 'prom-client';

interface Series {
  readonly labels: Record<string, string>;
  value: number;
}

/**
 * Series by label values, one Map level per label. The values are nearly always
 * interned strings (route ids, method and status-class constants) whose hashes V8
 * caches, so a lookup costs a few Map probes and allocates nothing; a key joined from
 * the values would be a new string to build and hash on every call.
 */
class SeriesIndex<S> {
  readonly #root = new Map<string, unknown>();
  readonly #all: S[] = [];

  get(values: readonly string[]): S | undefined {
    let node: unknown = this.#root;
    // A metric without labels keeps its one series under ''.
    const n = values.length || 1;
    for (let i = 0; i < n; i++) {
      node = (node as Map<string, unknown>).get(values[i] ?? '');
      if (node === undefined) return undefined;
    }
    return node as S;
  }

  set(values: readonly string[], series: S): void {
    let node = this.#root;
    const last = Math.max(values.length, 1) - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(values[i]!, (next = new Map()));
      node = next;
    }
    node.set(values[last] ?? '', series);
    this.#all.push(series);
  }

  values(): readonly S[] {
    return this.#all;
  }

  clear(): void {
    this.#root.clear();
    this.#all.length = 0;
  }
}

interface HistogramSeries {
  readonly labels: Record<string, string>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** The prom-client metric contract the registry relies on. */
interface RegistrableMetric {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: 'sum';
  get(): Promise<unknown>;
  reset(): void;
}

/** A counter with fixed label names. */
export class HotCounter implements RegistrableMetric {
  readonly type = 'counter';
  readonly aggregator = 'sum' as const;
  readonly #series = new SeriesIndex<Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** Add `n` to the series with these label values (in `labelNames` order). */
  inc(values: readonly string[], n = 1): void {
    let s = this.#series.get(values);
    if (s === undefined) {
      s = { labels: Object.fromEntries(this.labelNames.map((l, i) => [l, values[i]!])), value: 0 };
      this.#series.set(values, s);
    }
    s.value += n;
  }

  async get(): Promise<unknown> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.#series.values().map((s) => ({ labels: { ...s.labels }, value: s.value })),
    };
  }

  reset(): void {
    this.#series.clear();
  }
}

/** A histogram with fixed buckets and label names. */
export class HotHistogram implements RegistrableMetric {
  readonly type = 'histogram';
  readonly aggregator = 'sum' as const;
  readonly #series = new SeriesIndex<HistogramSeries>();
  readonly #buckets: readonly number[];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.#buckets = [...buckets].sort((a, b) => a - b);
    registry.registerMetric(this as never);
  }

  /** Record `v` in the series with these label values. */
  observe(values: readonly string[], v: number): void {
    let s = this.#series.get(values);
    if (s === undefined) {
      s = {
        labels: Object.fromEntries(this.labelNames.map((l, i) => [l, values[i]!])),
        counts: new Float64Array(this.#buckets.length),
        sum: 0,
        count: 0,
      };
      this.#series.set(values, s);
    }
    // Non-cumulative per bucket here; made cumulative when exported.
    const b = this.#buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        s.counts[i]!++;
        break;
      }
    }
    s.sum += v;
    s.count++;
  }

  async get(): Promise<unknown> {
    const values: unknown[] = [];
    for (const s of this.#series.values()) {
      let acc = 0;
      this.#buckets.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ labels: { le, ...s.labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series.clear();
  }
}
