/**
 * Upstream response header names, decoded once. undici hands every response's header
 * names over as fresh Buffers; turning each into a string is a native call (~50 ns)
 * before lower-casing and classifying it, for the same dozen names on every response.
 * Here a name is hashed and compared byte by byte in JS against the names seen before,
 * which returns the string, its lower-case form and what the gateway does with it,
 * without allocating.
 *
 * Bounded: at MAX_NAMES distinct names (an upstream inventing names per response) the
 * cache starts over. Two names with the same hash: the first keeps the slot, the other
 * is decoded every time.
 */
import { HOP_BY_HOP_HEADERS } from '../../ipc/index.js';

/** What the response filter does with a header. */
export const NameKind = {
  /** Forwarded to the client (unless the route hides it). */
  Keep: 0,
  /** Hop-by-hop, or the upstream's request id echo: never forwarded. */
  Drop: 1,
  /** `Connection`: dropped, and the names it lists are dropped too. */
  Connection: 2,
  /** `Via`: merged with the gateway's own. */
  Via: 3,
  /** `Transfer-Encoding`: dropped (Node frames the client response), but only `chunked` can be relayed. */
  TransferEncoding: 4,
} as const;
export type NameKind = (typeof NameKind)[keyof typeof NameKind];

/** One decoded header name. */
export interface HeaderName {
  /** As the upstream spelled it. */
  readonly name: string;
  readonly lower: string;
  readonly kind: NameKind;
}

interface Entry {
  readonly bytes: Uint8Array;
  readonly info: HeaderName;
}

const MAX_NAMES = 512;
// Longer names are unusual; they are decoded every time.
const MAX_LENGTH = 64;

/** The decoded names of one worker. */
export class HeaderNames {
  readonly #seen = new Map<number, Entry>();

  /** The decoded form of the header name in `buf` (latin1, as undici delivers it). */
  of(buf: Buffer): HeaderName {
    const n = buf.length;
    if (n > MAX_LENGTH) return decode(buf);
    // FNV-1a over the bytes, seeded with the length.
    let h = 0x811c9dc5 ^ n;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const seen = this.#seen;
    const hit = seen.get(h);
    if (hit !== undefined) {
      const b = hit.bytes;
      if (b.length === n) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (b[i] !== buf[i]) {
            same = false;
            break;
          }
        }
        if (same) return hit.info;
      }
      // A hash collision with another name: decode this one every time.
      return decode(buf);
    }
    const info = decode(buf);
    // Full (an upstream inventing names): start over rather than freeze out later names.
    if (seen.size >= MAX_NAMES) seen.clear();
    seen.set(h, { bytes: Uint8Array.from(buf), info });
    return info;
  }
}

function decode(buf: Buffer): HeaderName {
  const name = buf.toString('latin1');
  const lower = name.toLowerCase();
  let kind: NameKind = NameKind.Keep;
  if (lower === 'connection') kind = NameKind.Connection;
  else if (lower === 'via') kind = NameKind.Via;
  else if (lower === 'transfer-encoding') kind = NameKind.TransferEncoding;
  else if (HOP_BY_HOP_HEADERS.has(lower) || lower === 'x-request-id') kind = NameKind.Drop;
  return { name, lower, kind };
}
