/**
 * Child processes of a benchmark run, tracked so that none outlives it.
 *
 * Every child is started `detached`, i.e. as the leader of its own process group. That
 * lets the final clean-up kill the whole group, which matters for the gateway: its
 * primary forks workers, and a SIGKILL to the primary alone would orphan them. Graceful
 * stop is still a SIGTERM to the leader only, so the gateway's own shutdown path is what
 * gets exercised; the group SIGKILL is the fallback after a grace period.
 *
 * Output is kept as a bounded tail in memory (and the pipes are always drained, or a
 * chatty child would block on a full pipe and distort the measurement).
 */
import { fork, spawn } from 'node:child_process';
import { pin } from './cpu-pinning.mjs';

const TAIL_BYTES = 16 * 1024;

/** One tracked child; `exited` resolves when it is gone. */
export class ManagedChild {
  #child;
  #tail = '';
  #exited;
  exitCode = null;
  exitDescription = '';

  constructor(name, child) {
    this.name = name;
    this.#child = child;
    this.pid = child.pid;
    const keep = (chunk) => {
      this.#tail = (this.#tail + chunk.toString()).slice(-TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? -1;
        this.exitDescription = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      });
      // A failed spawn emits 'error' and possibly never 'exit'.
      child.once('error', (err) => {
        if (this.exitCode === null) {
          this.exitCode = -1;
          this.exitDescription = `spawn error: ${err.message}`;
        }
        resolve();
      });
    });
  }

  /** Resolves when the process has exited. */
  get exited() {
    return this.#exited;
  }

  /** The underlying ChildProcess (for IPC messages). */
  get process() {
    return this.#child;
  }

  /** The last lines of the child's stdout+stderr, formatted for an error message. */
  outputTail(lines = 20) {
    const text = this.#tail.trimEnd();
    if (!text) return '';
    return `\n--- last output of ${this.name} ---\n${text.split('\n').slice(-lines).join('\n')}`;
  }

  /**
   * SIGTERM the process and wait up to `graceMs`; then SIGKILL its whole group. Resolves
   * with `{ graceful, stragglers, ms }` so callers can report a child that ignored
   * SIGTERM or left processes of its group (e.g. cluster workers) behind.
   */
  async stop(graceMs = 10_000) {
    const started = Date.now();
    if (this.exitCode !== null) return { graceful: true, ms: 0 };
    this.#signal(this.pid, 'SIGTERM');
    let timer;
    const timedOut = await Promise.race([
      this.#exited.then(() => false),
      new Promise((r) => (timer = setTimeout(() => r(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) await new Promise((r) => setTimeout(r, 50)); // let workers finish exiting
    // Even after a clean exit of the leader, sweep the group for stragglers (workers).
    const stragglers = this.#groupAlive();
    this.killGroup();
    if (timedOut) await this.#exited;
    return { graceful: !timedOut, stragglers: !timedOut && stragglers, ms: Date.now() - started };
  }

  /** SIGKILL the child's process group, synchronously (safe inside an 'exit' handler). */
  killGroup() {
    this.#signal(-this.pid, 'SIGKILL');
  }

  #groupAlive() {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  #signal(target, sig) {
    try {
      process.kill(target, sig);
    } catch (err) {
      // ESRCH: already gone, which is what we wanted.
      if (err.code !== 'ESRCH') throw err;
    }
  }
}

/** Starts children and kills any still running when the run ends, however it ends. */
export class ProcessGroup {
  #children = new Set();
  #pinProxiesTo;

  /** `pinProxiesTo`: CPU list for every child except the upstream (see cpu-pinning.mjs). */
  constructor({ pinProxiesTo = null } = {}) {
    this.#pinProxiesTo = pinProxiesTo;
  }

  /**
   * Fork a Node script with an IPC channel; resolves once it sends
   * `{ type: 'listening', port }`, rejects if it exits or stays silent for `timeoutMs`.
   * `pinWithLoad` leaves it on the load generator's CPU (helpers such as a collector).
   */
  async forkServer(name, script, { env = {}, timeoutMs = 15_000, pinWithLoad = false } = {}) {
    const child = this.#track(
      name,
      fork(script, [], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, ...env },
      }),
      pinWithLoad,
    );
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not report listening within ${timeoutMs} ms${child.outputTail()}`)), timeoutMs);
      child.process.on('message', (msg) => {
        if (msg && msg.type === 'listening') {
          clearTimeout(timer);
          resolve(msg.port);
        }
      });
      child.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${child.exitDescription}) before listening${child.outputTail()}`));
      });
    });
    return { child, port };
  }

  /** Spawn any command (used for the gateway CLI); the caller decides how to wait for it. */
  spawn(name, command, args, { env = {}, cwd } = {}) {
    return this.#track(
      name,
      spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }),
    );
  }

  /** SIGKILL every child still running; synchronous so it also works in an 'exit' handler. */
  killAllSync() {
    for (const child of this.#children) if (child.exitCode === null) child.killGroup();
  }

  #track(name, proc, pinWithLoad = false) {
    // Not pinning keeps the affinity inherited from the bench process: the load CPU.
    if (this.#pinProxiesTo !== null && name !== 'upstream' && !pinWithLoad && proc.pid !== undefined) pin(proc.pid, this.#pinProxiesTo);
    const child = new ManagedChild(name, proc);
    this.#children.add(child);
    child.exited.then(() => this.#children.delete(child));
    return child;
  }
}
