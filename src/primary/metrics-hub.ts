/**
 * One /metrics view for the whole node. A worker that receives a scrape asks the
 * primary; the primary asks every listening worker for its registry (as JSON), adds its
 * own, sums them with prom-client's aggregator and answers the asking worker. A worker
 * that does not report within the timeout is left out and counted in the answer, so a
 * stuck worker slows a scrape down by at most the timeout and never fails it.
 */
import type { Worker } from 'node:cluster';
import type { Registry } from 'prom-client';
import { PROTOCOL_VERSION, type ToWorker } from '../ipc/index.js';
import { aggregateMetrics, type Logger, type MetricsJson } from '../telemetry/index.js';

interface Collection {
  readonly parts: MetricsJson[];
  readonly waiting: Set<Worker>;
  readonly finish: () => void;
}

/** Serves metrics-request messages from workers. */
export class MetricsHub {
  readonly #registry: Registry;
  readonly #workers: () => Worker[];
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  #nextId = 1;
  readonly #collections = new Map<number, Collection>();

  constructor(opts: { registry: Registry; workers: () => Worker[]; logger: Logger; timeoutMs?: number }) {
    this.#registry = opts.registry;
    this.#workers = opts.workers;
    this.#logger = opts.logger;
    this.#timeoutMs = opts.timeoutMs ?? 2_000;
  }

  /** `from` asked for the node's metrics under its request id `id`. */
  async request(from: Worker, id: number): Promise<void> {
    const reply = (msg: Omit<Extract<ToWorker, { type: 'metrics-response' }>, 'v' | 'type' | 'id'>) =>
      send(from, { v: PROTOCOL_VERSION, type: 'metrics-response', id, ...msg });
    try {
      const { parts, missing } = await this.#collect();
      parts.unshift(await this.#registry.getMetricsAsJSON());
      const { text, contentType } = await aggregateMetrics(parts);
      if (missing > 0) this.#logger.warn({ missing }, 'metrics scrape: some workers did not report in time');
      reply({ text, contentType, missing, error: null });
    } catch (err) {
      this.#logger.error({ err }, 'metrics scrape failed');
      reply({ text: null, contentType: 'text/plain', missing: 0, error: (err as Error).message });
    }
  }

  /** A worker's answer to a collection. */
  report(from: Worker, id: number, metrics: unknown[]): void {
    const c = this.#collections.get(id);
    if (c === undefined || !c.waiting.delete(from)) return;
    c.parts.push(metrics as MetricsJson);
    if (c.waiting.size === 0) c.finish();
  }

  #collect(): Promise<{ parts: MetricsJson[]; missing: number }> {
    const id = this.#nextId++;
    const workers = this.#workers();
    return new Promise((resolve) => {
      const parts: MetricsJson[] = [];
      const waiting = new Set(workers);
      const finish = () => {
        clearTimeout(timer);
        this.#collections.delete(id);
        resolve({ parts, missing: waiting.size });
      };
      const timer = setTimeout(finish, this.#timeoutMs);
      this.#collections.set(id, { parts, waiting, finish });
      if (waiting.size === 0) return finish();
      for (const w of workers) send(w, { v: PROTOCOL_VERSION, type: 'metrics-collect', id });
    });
  }
}

function send(worker: Worker, msg: ToWorker): void {
  if (worker.isConnected()) worker.send(msg, () => {});
}
