/**
 * One /metrics view for the whole node. A worker that receives a scrape asks the
 * primary; the primary asks every listening worker for its registry (as JSON), adds its
 * own, sums them with prom-client's aggregator and answers the asking worker.
 *
 * - A worker that does not report within the timeout is left out (and logged); a worker
 *   that is gone, or whose IPC send fails, is not waited for at all.
 * - Concurrent scrapes share one collection, so a flood of /metrics requests costs the
 *   primary one fan-out at a time.
 * - Counters must never go backwards across reloads and crashes: when a worker stops
 *   serving, its last reported counters and histograms move into a "departed" baseline
 *   that every later page includes. Counts a worker made after its last scrape are lost
 *   with it (an undercount, never a decrease).
 */
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { PROTOCOL_VERSION, type ToWorker } from '../ipc/index.js';
import { aggregateMetrics, type Logger, type MetricsJson } from '../telemetry/index.js';
import { sendToWorker } from './send-to-worker.js';

interface Collection {
  readonly parts: MetricsJson[];
  readonly waiting: Set<Worker>;
  readonly finish: () => void;
}

interface Page {
  readonly text: string;
  readonly contentType: string;
  readonly missing: number;
}

/** Serves metrics-request messages from workers. */
export class MetricsHub {
  readonly #registry: Registry;
  readonly #workers: () => Worker[];
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  #nextId = 1;
  readonly #collections = new Map<number, Collection>();
  #inflight: Promise<Page> | null = null;
  readonly #last = new Map<Worker, MetricsJson>();
  #departed: Promise<MetricsJson> = Promise.resolve([]);

  readonly #extra: () => Promise<unknown[] | null>;

  /** `extra` adds another process-local source (the control thread) to every page. */
  constructor(opts: { registry: Registry; workers: () => Worker[]; logger: Logger; timeoutMs?: number; extra?: () => Promise<unknown[] | null> }) {
    this.#extra = opts.extra ?? (async () => null);
    this.#registry = opts.registry;
    this.#workers = opts.workers;
    this.#logger = opts.logger;
    this.#timeoutMs = opts.timeoutMs ?? 2_000;
  }

  /** `from` asked for the node's metrics under its request id `id`. */
  async request(from: Worker, id: number): Promise<void> {
    const reply = (msg: Omit<Extract<ToWorker, { type: 'metrics-response' }>, 'v' | 'type' | 'id'>) =>
      sendToWorker(from, { v: PROTOCOL_VERSION, type: 'metrics-response', id, ...msg });
    try {
      this.#inflight ??= this.#page().finally(() => (this.#inflight = null));
      const page = await this.#inflight;
      reply({ ...page, error: null });
    } catch (err) {
      this.#logger.error({ err }, 'metrics scrape failed');
      reply({ text: null, contentType: 'text/plain', missing: 0, error: (err as Error).message });
    }
  }

  /** A worker's answer to a collection. */
  report(from: Worker, id: number, metrics: unknown[]): void {
    const c = this.#collections.get(id);
    if (c === undefined || !c.waiting.delete(from)) return;
    this.#last.set(from, metrics as MetricsJson);
    c.parts.push(metrics as MetricsJson);
    if (c.waiting.size === 0) c.finish();
  }

  /** `worker` stopped serving: keep its counters in the baseline, stop waiting for it. */
  gone(worker: Worker): void {
    for (const c of this.#collections.values()) {
      if (c.waiting.delete(worker) && c.waiting.size === 0) c.finish();
    }
    const last = this.#last.get(worker);
    this.#last.delete(worker);
    if (last === undefined) return;
    const monotonic = last.filter((m) => String(m.type) === 'counter' || String(m.type) === 'histogram');
    this.#departed = this.#departed.then((base) => AggregatorRegistry.aggregate([base, monotonic]).getMetricsAsJSON() as Promise<MetricsJson>);
  }

  async #page(): Promise<Page> {
    const [{ parts, missing }, extra] = await Promise.all([this.#collect(), this.#extra().catch(() => null)]);
    parts.unshift(await this.#registry.getMetricsAsJSON(), await this.#departed);
    // The control thread restarting resets its counters (a counter reset Prometheus handles).
    if (extra === null) this.#logger.debug('metrics scrape: the control thread did not report');
    else parts.push(extra as MetricsJson);
    if (missing > 0) this.#logger.warn({ missing }, 'metrics scrape: some workers did not report in time');
    return { ...(await aggregateMetrics(parts)), missing };
  }

  #collect(): Promise<{ parts: MetricsJson[]; missing: number }> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const parts: MetricsJson[] = [];
      const waiting = new Set<Worker>();
      const finish = () => {
        clearTimeout(timer);
        this.#collections.delete(id);
        resolve({ parts, missing: waiting.size });
      };
      const timer = setTimeout(finish, this.#timeoutMs);
      this.#collections.set(id, { parts, waiting, finish });
      const msg: ToWorker = { v: PROTOCOL_VERSION, type: 'metrics-collect', id };
      for (const w of this.#workers()) {
        waiting.add(w);
        const sent = sendToWorker(w, msg, () => {
          if (waiting.delete(w) && waiting.size === 0) finish();
        });
        if (!sent) waiting.delete(w);
      }
      if (waiting.size === 0) finish();
    });
  }
}
