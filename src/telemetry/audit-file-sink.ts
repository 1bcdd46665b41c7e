/**
 * Audit sink appending JSON lines to a file (mode 0600, directory created on first write).
 * Every process of the node (primary, workers, the `gateway keys` CLI) appends to the same
 * file: with O_APPEND each batch lands at the end in one write of whole lines, so
 * records of different processes never interleave within a line.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditSink } from './audit-log.js';

/** Appends audit lines to `file`. */
export class AuditFileSink implements AuditSink {
  readonly #file: string;
  #handle: Promise<FileHandle> | null = null;

  constructor(file: string) {
    this.#file = file;
  }

  async write(lines: readonly string[]): Promise<void> {
    // Opened lazily so a node that never audits anything creates no file; a failed open is
    // retried with the next batch (the directory may appear later).
    this.#handle ??= mkdir(dirname(this.#file), { recursive: true, mode: 0o700 }).then(() => open(this.#file, 'a', 0o600));
    let handle: FileHandle;
    try {
      handle = await this.#handle;
    } catch (err) {
      this.#handle = null;
      throw err;
    }
    await handle.write(lines.join(''));
  }

  async close(): Promise<void> {
    const h = this.#handle;
    this.#handle = null;
    if (h !== null) await (await h.catch(() => null))?.close();
  }
}
