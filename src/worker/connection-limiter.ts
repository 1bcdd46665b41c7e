/**
 * Per-client-IP concurrent connection limit of one worker (`server.limits.maxConnectionsPerIp`).
 *
 * The count is per worker process: node:cluster hands each connection to one worker and
 * workers do not share state on the accept path (asking the primary would add an IPC
 * round trip before every accept), so node-wide a client can hold at most
 * workers × limit connections. A connection over the limit is closed at once, before a
 * byte is read: answering 429/503 would mean parsing a request from exactly the client
 * the limit is for. Trusted proxies (`server.trustedProxies`) are not limited: they
 * multiplex many clients onto their connections, and the TCP peer is all the accept path
 * knows (per-client limits behind a proxy belong in its own config or in rate limits).
 */
import type { Socket } from 'node:net';
import { unmapIPv4 } from '../common/index.js';

/** Counts open connections per peer address. */
export class ConnectionLimiter {
  readonly #limit: number;
  readonly #exempt: (address: string) => boolean;
  readonly #open = new Map<string, number>();

  /** `limit` 0 admits everything; `exempt` peers (trusted proxies) are never counted. */
  constructor(limit: number, exempt: (address: string) => boolean) {
    this.#limit = limit;
    this.#exempt = exempt;
  }

  /** Admit `socket` (and release it on close), or return false: the caller closes it. */
  admit(socket: Socket): boolean {
    if (this.#limit === 0) return true;
    const raw = socket.remoteAddress;
    if (raw === undefined) return true;
    const address = unmapIPv4(raw);
    if (this.#exempt(address)) return true;
    const open = this.#open.get(address) ?? 0;
    if (open >= this.#limit) return false;
    this.#open.set(address, open + 1);
    socket.once('close', () => {
      const n = this.#open.get(address)! - 1;
      if (n === 0) this.#open.delete(address);
      else this.#open.set(address, n);
    });
    return true;
  }
}
