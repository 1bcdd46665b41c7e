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
}

/** A bounded, non-blocking audit log. */
export class AuditLog {
  readonly #sink: AuditSink;
  readonly #logger: Logger;
  readonly #capacity: number;
  readonly #warnEveryMs: number;
  readonly #dropped: Counter<'reason'> | null;
  readonly #pino: PinoLogger;
  #queue: string[] = [];
  #writing: Promise<void> | null = null;
  #lastWarn = -Infinity;
  #droppedSinceWarn = 0;
  /** Records dropped so far (queue full or sink failure). */
  dropped = 0;

  constructor(opts: AuditLogOptions) {
    this.#sink = opts.sink;
    this.#logger = opts.logger;
    this.#capacity = opts.capacity ?? 1024;
    this.#warnEveryMs = opts.warnEveryMs ?? 10_000;
    this.#dropped =
      opts.registry === null
        ? null
        : new Counter({
            name: 'gateway_audit_records_dropped_total',
            help: 'Audit records dropped: queue full (sink too slow) or sink write failed.',
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

  /** Flush, then close the sink. */
  async close(): Promise<void> {
    await this.flush();
    await this.#sink.close();
  }

  #enqueue(line: string): void {
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
    this.#writing = this.#sink.write(batch).then(
      () => {},
      (err: unknown) => {
        this.#drop('sink_error', batch.length, err);
      },
    ).finally(() => {
      this.#writing = null;
      if (this.#queue.length > 0) this.#drain();
    });
  }

  #drop(reason: 'queue_full' | 'sink_error', n: number, err?: unknown): void {
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
