/**
 * The worker's view of the API key file: records by id, re-read when the file changes.
 *
 * Every `refreshMs` the worker stats the file and re-reads it when its inode, size or
 * mtime changed (the CLI replaces it by rename, so a change always shows). A revoked or
 * new key therefore takes effect in every worker within `refreshMs` plus one read,
 * without restart or reload. A file that cannot be parsed keeps the last good records
 * (and is logged once per change); a file that cannot be read is retried on every poll;
 * a missing file means no keys.
 *
 * Verification: parse the key's id, look the record up, compare HMAC(pepper, key) with
 * the stored hash in constant time. A lookup miss still computes an HMAC, so timing does
 * not tell a wrong secret from an unknown id apart by much. Keys that matched are
 * remembered (at most 1000, in memory only, dropped whenever the file is re-read) so a
 * client reusing its key skips the HMAC (~5 µs, half of the API key overhead measured in
 * bench/); revocation and expiry are still checked on every request.
 */
import { readFile, stat } from 'node:fs/promises';
import { apiKeyId, hashApiKey, hashesEqual, parseKeyFile, type ApiKeyRecord } from '../../../common/api-keys/index.js';
import type { Logger } from '../../../telemetry/index.js';
import { CredentialRejected, type Identity } from './identity.js';

/** A record with its expiry pre-parsed. */
interface Entry {
  readonly record: ApiKeyRecord;
  readonly expiresAtMs: number;
}

const DUMMY_HASH = 'A'.repeat(43);
const MAX_VERIFIED = 1000;

/** API key records of one worker. */
export class ApiKeyIndex {
  readonly #file: string;
  readonly #pepper: string | null;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #read: (file: string) => Promise<string>;
  #entries = new Map<string, Entry>();
  #verified = new Map<string, Entry>();
  #signature = '';
  #timer: NodeJS.Timeout | null = null;
  #refreshMs = 0;
  #checking: Promise<void> | null = null;

  /** `deps.read` replaces the file read (tests inject EACCES/EMFILE with it). */
  constructor(file: string, pepper: string | null, deps: { logger: Logger; now?: () => number; read?: (file: string) => Promise<string> }) {
    this.#file = file;
    this.#pepper = pepper === '' ? null : pepper;
    this.#logger = deps.logger;
    this.#now = deps.now ?? Date.now;
    this.#read = deps.read ?? ((f) => readFile(f, 'utf8'));
  }

  /** Records loaded. */
  get size(): number {
    return this.#entries.size;
  }

  /** Load now (if changed), then keep polling every `refreshMs`. */
  async watch(refreshMs: number): Promise<void> {
    if (refreshMs !== this.#refreshMs) {
      if (this.#timer !== null) clearInterval(this.#timer);
      this.#refreshMs = refreshMs;
      this.#timer = setInterval(() => void this.check(), refreshMs);
      this.#timer.unref();
    }
    await this.check();
  }

  /** Stop polling. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#refreshMs = 0;
  }

  /** Re-read the file if it changed since the last look. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => (this.#checking = null));
    return this.#checking;
  }

  async #check(): Promise<void> {
    let signature: string;
    try {
      const s = await stat(this.#file);
      signature = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#logger.error({ err: (err as Error).message, file: this.#file }, 'cannot stat the API key file; keeping the loaded keys');
        return;
      }
      signature = 'missing';
    }
    if (signature === this.#signature) return;
    if (signature === 'missing') {
      this.#signature = signature;
      this.#entries = new Map();
      this.#verified = new Map();
      return;
    }
    let text: string;
    try {
      text = await this.#read(this.#file);
    } catch (err) {
      // Not recorded as seen: a read that failed (EACCES, EMFILE ...) is retried on the
      // next poll even when fixing it changes neither content, size nor mtime.
      this.#logger.error({ err: (err as Error).message, file: this.#file }, 'cannot read the API key file; keeping the loaded keys');
      return;
    }
    // An unparsable file is recorded as seen: it is logged once, not every poll.
    this.#signature = signature;
    try {
      const records = parseKeyFile(text);
      this.#entries = new Map(records.map((r) => [r.id, this.#entry(r)]));
      this.#verified = new Map();
      this.#logger.debug({ file: this.#file, keys: records.length }, 'API keys loaded');
    } catch (err) {
      this.#logger.error({ err: (err as Error).message, file: this.#file }, 'API key file is invalid; keeping the last good keys');
    }
  }

  /**
   * A record ready for lookups. An `expiresAt` that does not parse counts as already
   * expired (failing closed: NaN would compare as "never"); roles and scopes containing
   * `,` are dropped (the upstream roles header is comma-separated). Both logged once per
   * file read.
   */
  #entry(r: ApiKeyRecord): Entry {
    let expiresAtMs = r.expiresAt === null ? Infinity : Date.parse(r.expiresAt);
    if (Number.isNaN(expiresAtMs)) {
      this.#logger.error({ file: this.#file, keyId: r.id, expiresAt: r.expiresAt }, 'API key has an unparsable expiresAt; treating it as expired');
      expiresAtMs = -Infinity;
    }
    const bad = [...r.roles, ...r.scopes].filter((v) => v.includes(','));
    if (bad.length === 0) return { record: r, expiresAtMs };
    this.#logger.error({ file: this.#file, keyId: r.id, dropped: bad }, 'API key roles/scopes containing "," are ignored');
    return { record: { ...r, roles: r.roles.filter((v) => !v.includes(',')), scopes: r.scopes.filter((v) => !v.includes(',')) }, expiresAtMs };
  }

  /** The identity for `key`, or CredentialRejected. */
  verify(key: string): Identity {
    if (this.#pepper === null) throw new CredentialRejected('GATEWAY_API_KEY_PEPPER not set in the worker', 'invalid API key');
    let entry = this.#verified.get(key);
    if (entry === undefined) {
      const id = apiKeyId(key);
      if (id === null) throw new CredentialRejected('malformed API key', 'invalid API key');
      entry = this.#entries.get(id);
      const match = hashesEqual(hashApiKey(key, this.#pepper), entry?.record.hash ?? DUMMY_HASH);
      if (entry === undefined || !match) throw new CredentialRejected(entry === undefined ? `unknown API key id ${id}` : `wrong secret for API key ${id}`, 'invalid API key');
      if (this.#verified.size >= MAX_VERIFIED) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(key, entry);
    }
    const r = entry.record;
    const id = r.id;
    if (r.revokedAt !== null) throw new CredentialRejected(`API key ${id} revoked`, 'API key revoked');
    if (this.#now() >= entry.expiresAtMs) throw new CredentialRejected(`API key ${id} expired`, 'API key expired');
    return { method: 'api-key', subject: r.owner, roles: r.roles, scopes: r.scopes, keyId: r.id, rateLimit: r.rateLimit };
  }
}
