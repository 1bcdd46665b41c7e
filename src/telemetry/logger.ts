/**
 * pino JSON logger, built once per process in its composition root and passed down (no
 * module-level logger). Level from LOG_LEVEL; output is one JSON object per line on
 * stdout, which systemd's journal (or any collector) picks up.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Levels LOG_LEVEL accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** Level name; defaults to `info`. */
  readonly level?: string;
  /** Fields bound to every line (process role, worker slot ...). */
  readonly base?: Record<string, unknown>;
  /** Write synchronously (primary, CLI) or through an async buffer (workers' hot path). */
  readonly sync?: boolean;
}

/** Build a logger writing JSON lines to stdout. Throws on an unknown level name. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
  }
  // Async writes keep access logging off the request's critical path; whole lines are
  // written at once, so lines from several workers sharing stdout do not interleave.
  const dest = pino.destination({ dest: 1, sync: opts.sync ?? true, minLength: 0 });
  return pino(
    {
      level,
      base: { pid: process.pid, ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

/** Flush a logger's buffered lines before the process exits. */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // nothing left to do: stdout is gone
  }
}
