/**
 * The worker's side of a /metrics scrape: ask the primary for the node-wide view and
 * wait for its answer (request ids keep concurrent scrapes apart).
 */
import { PROTOCOL_VERSION, type FromWorker, type MetricsResponseMessage } from '../ipc/index.js';

/** Result of a scrape. */
export interface Scrape {
  readonly text: string;
  readonly contentType: string;
}

/** Sends metrics-request messages and matches the responses. */
export class MetricsClient {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(s: Scrape): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  readonly #timeoutMs: number;

  constructor(timeoutMs = 5_000) {
    this.#timeoutMs = timeoutMs;
  }

  /** The node's metrics as exposition text. */
  scrape(): Promise<Scrape> {
    return new Promise((resolve, reject) => {
      if (!process.connected || process.send === undefined) return reject(new Error('not connected to the primary'));
      const id = this.#nextId++;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`primary did not answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      const msg: FromWorker = { v: PROTOCOL_VERSION, type: 'metrics-request', id };
      process.send(msg);
    });
  }

  /** Feed a metrics-response from the primary. */
  answer(msg: MetricsResponseMessage): void {
    const p = this.#pending.get(msg.id);
    if (p === undefined) return;
    this.#pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.text === null) p.reject(new Error(msg.error ?? 'metrics collection failed'));
    else p.resolve({ text: msg.text, contentType: msg.contentType });
  }
}
