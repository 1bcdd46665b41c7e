/**
 * The audit log: security-relevant events (authentication failures, API key creation and
 * revocation, config reloads) as structured pino records in their own destination,
 * separate from the operational log.
 *
 * Recording never blocks and never waits for I/O: pino formats the record (small, sync)
 * into a bounded in-memory queue, and a writer drains the queue into the sink in batches,
 * one batch in flight at a time. When the queue is full (the sink is slow or down, or an
 * attacker floods failures faster than the disk takes them) the record is dropped, the
 * `gateway_audit_records_dropped_total` counter goes up and a warning is logged at most
 * once per `warnEveryMs`. A sink failure drops that batch the same way.
 *
 * Closing (worker drain, CLI exit) waits at most `closeTimeoutMs` (default 2 s) for the
 * queue to reach the sink, then for the sink to close: a hung sink must not keep a worker
 * from finishing its drain. Records still queued or in flight at the deadline are
 * dropped and counted (reason `close_timeout`).
 */
import pino, { type Logger as PinoLogger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** Where audit records end up (a file now; MySQL with the cluster issue). */
export interface AuditSink {
  /** Persist whole JSON lines (each ends with "\n"); resolves when they are written. */
  write(lines: readonly string[]): Promise<void>;
  /** Release resources after the last write. */
  close(): Promise<void>;
}

/** Options of an AuditLog. */
export interface AuditLogOptions {
  readonly sink: AuditSink;
  /** Operational logger for drop warnings. */
  readonly logger: Logger;
  /** Registry that gets the drop counter; null = no metric (CLI). */
  readonly registry: Registry | null;
  /** Records held while the sink is busy (default 1024). */
  readonly capacity?: number;
  /** Fields on every record (role, slot ...). */
  readonly base?: Record<string, unknown>;
  readonly warnEveryMs?: number;
  /** Longest wait in close() for the sink (default 2000 ms). */
  readonly closeTimeoutMs?: number;
}

type DropReason = 'queue_full' | 'sink_error' | 'close_timeout';

/** A bounded, non-blocking audit log. */
export class AuditLog {
  readonly #sink: AuditSink;
  readonly #logger: Logger;
  readonly #capacity: number;
  readonly #warnEveryMs: number;
  readonly #closeTimeoutMs: number;
  readonly #dropped: Counter<'reason'> | null;
  readonly #pino: PinoLogger;
  #queue: string[] = [];
  #writing: Promise<void> | null = null;
  /** Size of the batch in flight (dropped if close() gives up on it). */
  #inFlight = 0;
  #closed = false;
  #lastWarn = -Infinity;
  #droppedSinceWarn = 0;
  /** Records dropped so far (queue full or sink failure). */
  dropped = 0;

  constructor(opts: AuditLogOptions) {
    this.#sink = opts.sink;
    this.#logger = opts.logger;
    this.#capacity = opts.capacity ?? 1024;
    this.#warnEveryMs = opts.warnEveryMs ?? 10_000;
    this.#closeTimeoutMs = opts.closeTimeoutMs ?? 2000;
    this.#dropped =
      opts.registry === null
        ? null
        : new Counter({
            name: 'gateway_audit_records_dropped_total',
            help: 'Audit records dropped: queue full (sink too slow), sink write failed, or sink still busy at close.',
            labelNames: ['reason'],
            registers: [opts.registry],
          });
    this.#pino = pino(
      {
        base: { pid: process.pid, log: 'audit', ...opts.base },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      { write: (line: string) => this.#enqueue(line) },
    );
  }

  /** Records waiting for the sink. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Record `event` (a stable dotted name such as `auth.failure`) with its fields. */
  record(event: string, fields: Record<string, unknown>): void {
    this.#pino.info({ event, ...fields }, event);
  }

  /** Resolve once everything queued so far is written (or dropped). */
  async flush(): Promise<void> {
    while (this.#writing !== null || this.#queue.length > 0) {
      if (this.#writing === null) this.#drain();
      await this.#writing;
    }
  }

  /**
   * Flush, then close the sink, waiting at most `closeTimeoutMs` in all. At the deadline
   * the records not yet written are dropped (counted, reason `close_timeout`) and later
   * records are dropped too; resolves either way.
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.#closeTimeoutMs)));
    try {
      const flushed = await Promise.race([this.flush().then(() => 'done' as const), deadline]);
      if (flushed === 'timeout') {
        this.#giveUp();
        return;
      }
      const closed = await Promise.race([this.#sink.close().then(() => 'done' as const), deadline]);
      if (closed === 'timeout') this.#giveUp();
    } finally {
      clearTimeout(timer);
    }
  }

  #giveUp(): void {
    this.#closed = true;
    const lost = this.#queue.length + this.#inFlight;
    this.#queue = [];
    this.#inFlight = 0;
    if (lost > 0) this.#drop('close_timeout', lost);
    this.#logger.warn({ timeoutMs: this.#closeTimeoutMs, dropped: lost }, 'audit sink did not finish in time; gave up on it');
  }

  #enqueue(line: string): void {
    if (this.#closed) {
      this.#drop('close_timeout', 1);
      return;
    }
    if (this.#queue.length >= this.#capacity) {
      this.#drop('queue_full', 1);
      return;
    }
    this.#queue.push(line);
    if (this.#writing === null) queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    if (this.#writing !== null || this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#inFlight = batch.length;
    this.#writing = this.#sink.write(batch).then(
      () => {},
      (err: unknown) => {
        if (!this.#closed) this.#drop('sink_error', batch.length, err);
      },
    ).finally(() => {
      this.#writing = null;
      this.#inFlight = 0;
      if (this.#queue.length > 0) this.#drain();
    });
  }

  #drop(reason: DropReason, n: number, err?: unknown): void {
    this.dropped += n;
    this.#droppedSinceWarn += n;
    this.#dropped?.inc({ reason }, n);
    const now = performance.now();
    if (now - this.#lastWarn < this.#warnEveryMs) return;
    this.#lastWarn = now;
    this.#logger.warn({ reason, dropped: this.#droppedSinceWarn, err }, 'audit records dropped');
    this.#droppedSinceWarn = 0;
  }
}
