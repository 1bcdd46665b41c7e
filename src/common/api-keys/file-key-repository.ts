/**
 * API key records in one JSON file (`{"version":1,"keys":[...]}`), for embedded mode.
 *
 * Writes go to a temp file in the same directory (mode 0600), are fsynced and renamed
 * over the original, so a reader (the workers poll this file) sees the old or the new
 * content, never half of one. Concurrent writers (two `gateway keys` runs) serialize on
 * an exclusive lock file; a lock older than 30 s is taken to be left by a crashed run.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ApiKeyRecord, KeyRepository } from './key-repository.js';

const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 5_000;

/** Parse and check the file's text; throws with a readable reason. */
export function parseKeyFile(text: string): ApiKeyRecord[] {
  const doc = JSON.parse(text) as { version?: unknown; keys?: unknown };
  if (doc === null || typeof doc !== 'object' || doc.version !== 1 || !Array.isArray(doc.keys)) {
    throw new Error('not an API key file (expected {"version":1,"keys":[...]})');
  }
  return doc.keys.map((k, i) => {
    const r = k as Partial<ApiKeyRecord>;
    if (typeof r.id !== 'string' || typeof r.hash !== 'string' || typeof r.owner !== 'string' || !Array.isArray(r.roles) || !Array.isArray(r.scopes)) {
      throw new Error(`keys[${i}] is malformed`);
    }
    return {
      id: r.id,
      hash: r.hash,
      owner: r.owner,
      roles: r.roles.map(String),
      scopes: r.scopes.map(String),
      createdAt: String(r.createdAt ?? ''),
      expiresAt: typeof r.expiresAt === 'string' ? r.expiresAt : null,
      revokedAt: typeof r.revokedAt === 'string' ? r.revokedAt : null,
      rateLimit: r.rateLimit ?? null,
    };
  });
}

/** The JSON-file KeyRepository. */
export class FileKeyRepository implements KeyRepository {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  /** The file path. */
  get file(): string {
    return this.#file;
  }

  async list(): Promise<ApiKeyRecord[]> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return parseKeyFile(text);
  }

  async add(record: ApiKeyRecord): Promise<void> {
    await this.#update((keys) => {
      if (keys.some((k) => k.id === record.id)) throw new Error(`key id ${record.id} exists already`);
      return [...keys, record];
    });
  }

  async revoke(id: string, at: Date): Promise<ApiKeyRecord | null> {
    let updated: ApiKeyRecord | null = null;
    await this.#update((keys) =>
      keys.map((k) => {
        if (k.id !== id) return k;
        updated = k.revokedAt === null ? { ...k, revokedAt: at.toISOString() } : k;
        return updated;
      }),
    );
    return updated;
  }

  async #update(change: (keys: ApiKeyRecord[]) => ApiKeyRecord[]): Promise<void> {
    await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 });
    const release = await this.#lock();
    try {
      const next = change(await this.list());
      const tmp = `${this.#file}.${randomBytes(4).toString('hex')}.tmp`;
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ version: 1, keys: next }, null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(tmp, this.#file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    } finally {
      await release();
    }
  }

  async #lock(): Promise<() => Promise<void>> {
    const lock = `${this.#file}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const h = await open(lock, 'wx', 0o600);
        await h.close();
        return () => unlink(lock).catch(() => {});
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > STALE_LOCK_MS) await rm(lock, { force: true });
        else if (Date.now() > deadline) throw new Error(`${lock} is held by another "gateway keys" run (remove it if none is running)`);
        else await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
