/**
 * The worker supervisor of the primary: forks one worker per slot through node:cluster,
 * respawns dead workers with exponential backoff, stops a slot that crash-loops (and
 * says so loudly) instead of spinning, replaces workers one at a time on reload, and
 * drains them all on shutdown.
 *
 * Rolling replacement (not an in-place snapshot swap) is how a reload is applied: each
 * slot gets a fresh worker with the new snapshot, and only once it listens is the old one
 * asked to drain. Server-level settings (port, limits, timeouts) therefore change with
 * the reload too, and the node never has fewer listening workers than it had.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { EXIT_CANNOT_LISTEN, PRIMARY_FEATURES, PROTOCOL_VERSION, isProtocolMessage, type ConfigSnapshot, type FromWorker, type ToWorker } from '../ipc/index.js';
import type { Logger } from '../telemetry/index.js';
import { sendToWorker } from './send-to-worker.js';

/** Tunables, mostly for tests. */
export interface SupervisorOptions {
  /** Worker entry file (dist/src/worker/main.js). */
  readonly workerEntry: string;
  readonly logger: Logger;
  /** Deaths within `crashWindowMs` that stop a slot. */
  readonly crashLimit?: number;
  readonly crashWindowMs?: number;
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How long a new worker may take to report ready. */
  readonly readyTimeoutMs?: number;
  /** Called when every slot has stopped: the node cannot serve. */
  readonly onAllStopped?: (why: 'crash-loop' | 'cannot-listen') => void;
  /** Messages from workers the supervisor itself does not handle (metrics ...). */
  readonly onWorkerMessage?: (worker: Worker, msg: FromWorker) => void;
  /** A worker stopped serving (retired or died); called once per worker. */
  readonly onWorkerGone?: (worker: Worker) => void;
  /** A worker started listening (send it node-wide state). */
  readonly onWorkerReady?: (worker: Worker) => void;
}

interface Slot {
  readonly id: number;
  worker: Worker | null;
  ready: boolean;
  deaths: number[];
  stopped: boolean;
  timer: NodeJS.Timeout | null;
}

/** Number of worker processes a snapshot asks for. */
export function workerCount(snapshot: ConfigSnapshot): number {
  return snapshot.server.workers > 0 ? snapshot.server.workers : availableParallelism();
}

/** Supervises the worker processes of one node. */
export class Supervisor {
  readonly #opts: Required<Omit<SupervisorOptions, 'onAllStopped' | 'onWorkerMessage' | 'onWorkerGone' | 'onWorkerReady'>> &
    Pick<SupervisorOptions, 'onAllStopped' | 'onWorkerMessage' | 'onWorkerGone' | 'onWorkerReady'>;
  #snapshot: ConfigSnapshot | null = null;
  /** A worker has served at least once (a listen failure after that is not fatal). */
  #everReady = false;
  #slots: Slot[] = [];
  /** Workers asked to drain; their exit is expected. */
  #retiring = new Set<Worker>();
  /** Workers whose message listener is attached (they sent `worker-started`). */
  #listening = new WeakSet<Worker>();
  /** Drains requested before the worker could hear them, by worker. */
  #pendingDrain = new WeakMap<Worker, number>();
  #shuttingDown = false;
  #reloading: Promise<unknown> = Promise.resolve();
  /**
   * The worker a reload is trying out, and the one it would replace (null: a slot the
   * reload adds). While the old one serves (or there is none), the newcomer's death
   * abandons the reload instead of being a crash to respawn.
   */
  #trial: { readonly worker: Worker; readonly old: Worker | null } | null = null;
  /** Workers restarted after an unexpected death. */
  respawns = 0;

  constructor(opts: SupervisorOptions) {
    this.#opts = {
      crashLimit: 5,
      crashWindowMs: 30_000,
      baseBackoffMs: 100,
      maxBackoffMs: 5_000,
      readyTimeoutMs: 15_000,
      ...opts,
    };
    cluster.setupPrimary({ exec: opts.workerEntry });
    cluster.on('exit', (worker, code, signal) => this.#onExit(worker, code, signal));
    cluster.on('message', (worker, m: unknown) => this.#onMessage(worker, m));
  }

  /** The snapshot workers are (being) given. */
  get snapshot(): ConfigSnapshot | null {
    return this.#snapshot;
  }

  /** Workers currently listening (for metrics collection). */
  get readyWorkers(): Worker[] {
    return this.#slots.flatMap((s) => (s.worker !== null && s.ready && !s.worker.isDead() ? [s.worker] : []));
  }

  /** Pids of the current (non-retiring) workers, by slot. */
  get pids(): (number | null)[] {
    return this.#slots.map((s) => s.worker?.process.pid ?? null);
  }

  /** Start every slot with `snapshot`; resolves with how many reported ready. */
  async start(snapshot: ConfigSnapshot): Promise<number> {
    this.#snapshot = snapshot;
    const n = workerCount(snapshot);
    this.#slots = Array.from({ length: n }, (_, id) => ({ id, worker: null, ready: false, deaths: [], stopped: false, timer: null }));
    const results = await Promise.all(this.#slots.map((slot) => this.#startSlot(slot)));
    return results.filter(Boolean).length;
  }

  /**
   * Roll `snapshot` out, one slot at a time. Resolves true when every slot serves it.
   * Callers serialize reloads (the primary does); one started while another runs waits
   * for it first, so rollouts never interleave.
   */
  reload(snapshot: ConfigSnapshot): Promise<boolean> {
    const run = this.#reloading.then(() => this.#roll(snapshot));
    this.#reloading = run.catch(() => false);
    return run;
  }

  async #roll(snapshot: ConfigSnapshot): Promise<boolean> {
    const previous = this.#snapshot;
    const previousSlots = this.#slots.length;
    this.#snapshot = snapshot;
    const wanted = workerCount(snapshot);
    // Grow: new slots are simply started. Shrink: surplus slots are drained at the end.
    while (this.#slots.length < wanted) {
      this.#slots.push({ id: this.#slots.length, worker: null, ready: false, deaths: [], stopped: false, timer: null });
    }
    let replaced = 0;
    for (const slot of this.#slots.slice(0, wanted)) {
      if (this.#shuttingDown) return false;
      // A reload gives a crash-looped slot a fresh chance with the new config.
      slot.stopped = false;
      slot.deaths = [];
      if (slot.timer !== null) (clearTimeout(slot.timer), (slot.timer = null));
      const old = slot.worker;
      const oldReady = slot.ready;
      const trial = this.#startSlot(slot);
      if ((old !== null && !old.isDead()) || slot.id >= previousSlots) this.#trial = { worker: slot.worker!, old };
      const ok = await trial;
      this.#trial = null;
      if (!ok) {
        this.#opts.logger.error(
          { slot: slot.id, configVersion: snapshot.version, replaced },
          replaced === 0
            ? 'reload aborted: the first new worker did not become ready; old workers keep serving'
            : old === null
              ? 'reload incomplete: a new worker did not become ready; the slots this reload added are dropped'
              : 'reload incomplete: a new worker did not become ready; its slot keeps the old worker',
        );
        if (replaced === 0 && previous !== null) this.#snapshot = previous;
        if (old !== null && !old.isDead()) {
          // The failed newcomer is being killed; its exit is expected, not a crash.
          if (slot.worker !== null && slot.worker !== old) this.#retiring.add(slot.worker);
          slot.worker = old;
          slot.ready = oldReady;
        }
        // Slots added for this reload that are not serving go away again.
        for (const extra of this.#slots.slice(previousSlots)) {
          if (extra.ready) continue;
          if (extra.timer !== null) clearTimeout(extra.timer);
          if (extra.worker !== null && !extra.worker.isDead()) {
            this.#retiring.add(extra.worker);
            extra.worker.process.kill('SIGKILL');
          }
        }
        this.#slots = this.#slots.filter((s, i) => i < previousSlots || s.ready);
        this.#broadcastStatus();
        return false;
      }
      // The old worker may have died while the newcomer started: nothing left to retire.
      if (old !== null && !old.isDead()) this.#retire(old);
      replaced++;
    }
    for (const slot of this.#slots.slice(wanted)) {
      if (slot.timer !== null) clearTimeout(slot.timer);
      if (slot.worker !== null) this.#retire(slot.worker);
    }
    this.#slots.length = wanted;
    this.#broadcastStatus();
    return true;
  }

  /** Drain every worker and resolve once all have exited (or were killed at the deadline). */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    for (const slot of this.#slots) if (slot.timer !== null) clearTimeout(slot.timer);
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    const drainMs = this.#snapshot?.server.timeouts.drainMs ?? 10_000;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const kill = setTimeout(() => w.process.kill('SIGKILL'), drainMs + 5_000);
            w.once('exit', () => (clearTimeout(kill), resolve()));
            this.#drain(w, drainMs);
          }),
      ),
    );
  }

  /** Fork a worker for `slot` with the current snapshot; resolves when it listens. */
  #startSlot(slot: Slot): Promise<boolean> {
    const snapshot = this.#snapshot!;
    const worker = cluster.fork({ GATEWAY_SLOT: String(slot.id) });
    slot.worker = worker;
    slot.ready = false;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(ok);
      };
      const onMessage = (m: unknown) => {
        if (isProtocolMessage(m) && (m as FromWorker).type === 'worker-started') {
          this.#listening.add(worker);
          const drainMs = this.#pendingDrain.get(worker);
          if (drainMs !== undefined) this.#send(worker, { v: PROTOCOL_VERSION, type: 'drain', timeoutMs: drainMs });
          else this.#send(worker, { v: PROTOCOL_VERSION, type: 'snapshot', snapshot, features: PRIMARY_FEATURES });
        } else if (isProtocolMessage(m) && (m as FromWorker).type === 'worker-ready') done(true);
        else if (isProtocolMessage(m) && (m as FromWorker).type === 'worker-rejected') {
          worker.process.kill('SIGKILL');
          done(false);
        }
      };
      const onExit = () => done(false);
      const timer = setTimeout(() => {
        this.#opts.logger.error({ slot: slot.id, workerPid: worker.process.pid }, 'worker did not become ready in time');
        worker.process.kill('SIGKILL');
        done(false);
      }, this.#opts.readyTimeoutMs);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
  }

  #retire(worker: Worker): void {
    this.#retiring.add(worker);
    this.#opts.onWorkerGone?.(worker);
    const drainMs = this.#snapshot?.server.timeouts.drainMs ?? 10_000;
    const kill = setTimeout(() => worker.process.kill('SIGKILL'), drainMs + 5_000);
    worker.once('exit', () => clearTimeout(kill));
    this.#drain(worker, drainMs);
  }

  /** Ask `worker` to drain, or remember to as soon as it can hear (IPC drops earlier messages). */
  #drain(worker: Worker, timeoutMs: number): void {
    if (this.#listening.has(worker)) this.#send(worker, { v: PROTOCOL_VERSION, type: 'drain', timeoutMs });
    else this.#pendingDrain.set(worker, timeoutMs);
  }

  #onMessage(worker: Worker, m: unknown): void {
    if (!isProtocolMessage(m)) return;
    const msg = m as FromWorker;
    const slot = this.#slots.find((s) => s.worker === worker);
    if (msg.type === 'worker-ready' && slot !== undefined) {
      slot.ready = true;
      this.#everReady = true;
      this.#opts.logger.info({ slot: slot.id, workerPid: msg.pid, configVersion: msg.configVersion }, 'worker ready');
      this.#broadcastStatus();
      this.#opts.onWorkerReady?.(worker);
    } else if (msg.type === 'worker-rejected') {
      this.#opts.logger.error({ workerPid: worker.process.pid, configVersion: msg.configVersion, reason: msg.reason }, 'worker rejected config');
    } else {
      this.#opts.onWorkerMessage?.(worker, msg);
    }
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    if (this.#retiring.delete(worker) || this.#shuttingDown) return;
    this.#opts.onWorkerGone?.(worker);
    const trial = this.#trial;
    if (trial !== null && worker === trial.old) {
      // The newcomer holds the slot now: if it becomes ready nothing is lost; if it dies
      // too, that death is handled as a crash (below) and the slot is respawned.
      this.#opts.logger.warn({ workerPid: worker.process.pid, code, signal }, 'worker died while its replacement was starting');
      return;
    }
    const slot = this.#slots.find((s) => s.worker === worker);
    if (slot === undefined) return;
    if (trial !== null && worker === trial.worker && (trial.old === null || !trial.old.isDead())) {
      // A reload's new worker died before it was ready: the reload is abandoned and the old
      // worker keeps the slot, or the slot it was to fill is dropped (the reload logs that);
      // nothing to respawn, no crash to count.
      this.#opts.logger.warn({ slot: slot.id, workerPid: worker.process.pid, code, signal }, 'new worker exited before it was ready');
      slot.worker = null;
      return;
    }
    slot.worker = null;
    slot.ready = false;
    const now = Date.now();
    slot.deaths = slot.deaths.filter((t) => now - t < this.#opts.crashWindowMs);
    slot.deaths.push(now);
    this.#broadcastStatus();
    if (code === EXIT_CANNOT_LISTEN && !this.#everReady) {
      // Before any worker ever served, a listen failure is the host's or the config's
      // (the port is taken, or below 1024 without the capability): retrying cannot help.
      const server = this.#snapshot?.server;
      this.#opts.logger.fatal(
        { host: server?.host, port: server?.port, httpPort: server?.tls?.httpPort ?? undefined },
        'workers cannot listen on the configured address (in use, or not permitted; see the worker\'s "cannot listen" line): not retrying',
      );
      for (const s of this.#slots) s.stopped = true;
      this.#opts.onAllStopped?.('cannot-listen');
      return;
    }
    if (slot.deaths.length >= this.#opts.crashLimit) {
      slot.stopped = true;
      this.#opts.logger.fatal(
        { slot: slot.id, code, signal, deaths: slot.deaths.length, windowMs: this.#opts.crashWindowMs },
        'worker slot is crash-looping: not respawning it until the next reload (SIGHUP)',
      );
      if (this.#slots.every((s) => s.stopped)) this.#opts.onAllStopped?.('crash-loop');
      return;
    }
    const delay = Math.min(this.#opts.maxBackoffMs, this.#opts.baseBackoffMs * 2 ** (slot.deaths.length - 1));
    this.#opts.logger.warn({ slot: slot.id, workerPid: worker.process.pid, code, signal, respawnInMs: delay }, 'worker died; respawning');
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (this.#shuttingDown || slot.stopped || slot.worker !== null) return;
      this.respawns++;
      void this.#startSlot(slot);
    }, delay);
  }

  #broadcastStatus(): void {
    const up = this.#slots.filter((s) => s.ready).length;
    const msg: ToWorker = {
      v: PROTOCOL_VERSION,
      type: 'status',
      workersUp: up,
      workersWanted: this.#slots.length,
      configVersion: this.#snapshot?.version ?? 0,
    };
    for (const s of this.#slots) if (s.worker !== null && s.ready) this.#send(s.worker, msg);
  }

  #send(worker: Worker, msg: ToWorker): void {
    sendToWorker(worker, msg, (err) => this.#opts.logger.debug({ err: err.message, workerPid: worker.process.pid }, 'IPC send failed'));
  }
}
