/**
 * Runs the control plane in a worker_thread and restarts it when it dies, with
 * exponential backoff, so a crash in config loading (or later, discovery and
 * coordination clients) never takes down supervision: workers keep serving the last
 * snapshot they got. Requests in flight when the thread dies fail; callers retry.
 */
import { Worker } from 'node:worker_threads';
import { IpcCalls, PROTOCOL_VERSION, isProtocolMessage, type ConfigAnswer, type FromControl, type HealthTarget, type ToControl } from '../ipc/index.js';
import type { Logger } from '../telemetry/index.js';

/** Options of a ControlHost. */
export interface ControlHostOptions {
  /** The thread's entry file (dist/src/control/thread.js; a fixture in tests). */
  readonly entry: URL | string;
  readonly workerData: unknown;
  readonly logger: Logger;
  /** First restart delay; doubles per consecutive crash up to `maxBackoffMs`. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Messages the thread sends on its own (health updates). */
  readonly onEvent?: (msg: FromControl) => void;
}

interface Pending {
  resolve(m: ConfigAnswer): void;
  reject(err: Error): void;
}

/** Owns the control thread: start, request/response, restart on death, stop. */
export class ControlHost {
  readonly #opts: ControlHostOptions;
  #thread: Worker | null = null;
  #pending = new Map<number, Pending>();
  #crashes = 0;
  #startedAt = 0;
  #stopped = false;
  #restartTimer: NodeJS.Timeout | null = null;
  /** Metrics collections in flight (answered by `control-metrics` messages). */
  readonly #metricsCalls = new IpcCalls<unknown[]>(1_000);
  /** Last health-check targets, re-sent to a restarted thread. */
  #targets: ToControl | null = null;
  /** How many times the thread was restarted after dying (for logs and tests). */
  restarts = 0;

  constructor(opts: ControlHostOptions) {
    this.#opts = opts;
  }

  /** Start the thread. */
  start(): void {
    this.#stopped = false;
    this.#spawn();
  }

  /** Ask the thread to load config `version`; resolves with its answer. */
  loadConfig(version: number, reason: 'start' | 'reload', timeoutMs = 30_000): Promise<ConfigAnswer> {
    return new Promise((resolve, reject) => {
      if (this.#thread === null) {
        reject(new Error('control thread is not running (restarting after a crash)'));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(version);
        reject(new Error(`control thread did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(version, {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      const msg: ToControl = { v: PROTOCOL_VERSION, type: 'load-config', reason, version };
      this.#thread.postMessage(msg);
    });
  }

  /** The thread's metrics (prom-client JSON), or null when it does not answer within 1 s. */
  metrics(): Promise<unknown[] | null> {
    return this.#metricsCalls.call((id) => {
      if (this.#thread === null) return false;
      this.#thread.postMessage({ v: PROTOCOL_VERSION, type: 'metrics-collect', id } satisfies ToControl);
      return true;
    });
  }

  /** Probe these targets (and keep probing them across thread restarts). */
  setHealthTargets(targets: HealthTarget[]): void {
    this.#targets = { v: PROTOCOL_VERSION, type: 'health-targets', targets };
    this.#thread?.postMessage(this.#targets);
  }

  /** Stop the thread for good. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    const t = this.#thread;
    this.#thread = null;
    if (t !== null) await t.terminate();
  }

  #spawn(): void {
    const thread = new Worker(this.#opts.entry, { workerData: this.#opts.workerData });
    this.#thread = thread;
    this.#startedAt = Date.now();
    thread.on('message', (m: unknown) => {
      if (!isProtocolMessage(m)) return;
      const msg = m as FromControl;
      if (msg.type === 'health-update') {
        this.#opts.onEvent?.(msg);
        return;
      }
      if (msg.type === 'control-metrics') {
        this.#metricsCalls.settle(msg.id, Array.isArray(msg.metrics) ? msg.metrics : null);
        return;
      }
      const version = msg.type === 'config-loaded' ? msg.snapshot.version : msg.version;
      const p = this.#pending.get(version);
      this.#pending.delete(version);
      p?.resolve(msg);
    });
    if (this.#targets !== null) thread.postMessage(this.#targets);
    thread.on('error', (err) => this.#opts.logger.error({ err }, 'control thread crashed'));
    thread.on('exit', (code) => this.#onExit(thread, code));
  }

  #onExit(thread: Worker, code: number): void {
    if (this.#thread !== thread) return; // stopped on purpose
    this.#thread = null;
    for (const p of this.#pending.values()) p.reject(new Error(`control thread exited with code ${code}`));
    this.#pending.clear();
    if (this.#stopped) return;
    // A thread that ran for a while before dying starts the backoff afresh.
    if (Date.now() - this.#startedAt > 30_000) this.#crashes = 0;
    this.#crashes++;
    const base = this.#opts.baseBackoffMs ?? 100;
    const delay = Math.min(this.#opts.maxBackoffMs ?? 10_000, base * 2 ** (this.#crashes - 1));
    this.#opts.logger.error({ code, restartInMs: delay, crashes: this.#crashes }, 'control thread exited; restarting it');
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.#stopped) return;
      this.restarts++;
      this.#spawn();
    }, delay);
  }
}
