/**
 * Request ids: an incoming `X-Request-Id` is kept only when it is short and made of safe
 * characters (it ends up in logs and upstream headers, so anything else could forge log
 * lines or smuggle header content); otherwise the gateway generates a random UUID (v4).
 *
 * The UUID is built here rather than by `crypto.randomUUID()`, whose formatting joins
 * twenty short strings per id: on a proxied request that was ~470 bytes of garbage and a
 * measurable share of the CPU (bench/results/core.md). Same source of randomness (the
 * CSPRNG, drawn 4 KiB at a time, as Node's own id cache does), same format, one string.
 */
import { randomFillSync } from 'node:crypto';

const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;
const POOL_IDS = 256;
// ASCII of the two hex digits of every byte value.
const HEX = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const s = b.toString(16).padStart(2, '0');
  HEX[2 * b] = s.charCodeAt(0);
  HEX[2 * b + 1] = s.charCodeAt(1);
}
// Where each of the 16 bytes goes in `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** Request ids of one worker (its pool of random bytes and a scratch buffer). */
export class RequestIds {
  readonly #pool = Buffer.alloc(16 * POOL_IDS);
  #next = POOL_IDS;
  readonly #out = Buffer.alloc(36, '-');

  /** The request id to use for a request carrying `incoming` (a header value or undefined). */
  for(incoming: string | string[] | undefined): string {
    if (typeof incoming === 'string' && WELL_FORMED.test(incoming)) return incoming;
    return this.uuid();
  }

  /** A random (version 4, RFC 9562) UUID in its lower-case 36-character form. */
  uuid(): string {
    if (this.#next === POOL_IDS) {
      randomFillSync(this.#pool);
      this.#next = 0;
    }
    const pool = this.#pool;
    const out = this.#out;
    const base = 16 * this.#next++;
    for (let i = 0; i < 16; i++) {
      let b = pool[base + i]!;
      if (i === 6) b = (b & 0x0f) | 0x40; // version 4
      else if (i === 8) b = (b & 0x3f) | 0x80; // variant 10xx
      out[AT[i]!] = HEX[2 * b]!;
      out[AT[i]! + 1] = HEX[2 * b + 1]!;
    }
    return out.toString('latin1', 0, 36);
  }
}
