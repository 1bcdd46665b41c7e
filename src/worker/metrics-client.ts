/**
 * The worker's side of a /metrics scrape: ask the primary for the node-wide view and
 * wait for its answer.
 */
import { PROTOCOL_VERSION, type FromWorker, type MetricsResponseMessage } from '../ipc/index.js';
import { IpcCalls } from '../ipc/index.js';

/** Result of a scrape. */
export interface Scrape {
  readonly text: string;
  readonly contentType: string;
}

/** Sends metrics-request messages and matches the responses. */
export class MetricsClient {
  readonly #calls: IpcCalls<MetricsResponseMessage>;
  readonly #timeoutMs: number;

  constructor(timeoutMs = 5_000) {
    this.#timeoutMs = timeoutMs;
    this.#calls = new IpcCalls(timeoutMs);
  }

  /** The node's metrics as exposition text. */
  async scrape(): Promise<Scrape> {
    if (!process.connected || process.send === undefined) throw new Error('not connected to the primary');
    const send = process.send.bind(process);
    const answer = await this.#calls.call((id) => {
      const msg: FromWorker = { v: PROTOCOL_VERSION, type: 'metrics-request', id };
      send(msg);
      return true;
    });
    if (answer === null) throw new Error(`primary did not answer within ${this.#timeoutMs} ms`);
    if (answer.text === null) throw new Error(answer.error ?? 'metrics collection failed');
    return { text: answer.text, contentType: answer.contentType };
  }

  /** Feed a metrics-response from the primary. */
  answer(msg: MetricsResponseMessage): void {
    this.#calls.settle(msg.id, msg);
  }
}
