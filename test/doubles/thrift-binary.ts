/**
 * A small decoder of the Apache Thrift binary protocol, enough for the Jaeger collector
 * double: structs, lists, strings/binary, bool, byte, i16, i32, i64, double (maps and
 * sets are decoded too, so an unexpected field never derails the reader).
 *
 * Wire format (Thrift binary protocol, strict-free as the Jaeger HTTP sender writes it):
 *   struct := (field-type:i8 field-id:i16 value)* STOP(0)
 *   list/set := elem-type:i8 size:i32 value*      map := key-type:i8 val-type:i8 size:i32 (k v)*
 *   string/binary := size:i32 bytes    bool := i8    integers big-endian, double IEEE 754
 * Anything truncated or malformed throws `ThriftDecodeError`.
 */

/** Thrift type ids on the wire. */
export const T = { STOP: 0, BOOL: 2, BYTE: 3, DOUBLE: 4, I16: 6, I32: 8, I64: 10, STRING: 11, STRUCT: 12, MAP: 13, SET: 14, LIST: 15 } as const;

/** A decoded value: structs are maps from field id to value. */
export type ThriftValue = boolean | number | bigint | Buffer | ThriftStruct | ThriftValue[] | Map<ThriftValue, ThriftValue>;
/** A decoded struct: field id → value. */
export type ThriftStruct = Map<number, ThriftValue>;

/** The body is not valid Thrift binary. */
export class ThriftDecodeError extends Error {}

// Refuse absurd sizes before allocating anything for them.
const MAX_ELEMENTS = 1_000_000;
const MAX_DEPTH = 32;

/** Sequential reader over one buffer. */
export class ThriftReader {
  readonly #buf: Buffer;
  #pos = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  /** Read one struct (fields until STOP). */
  readStruct(depth = 0): ThriftStruct {
    if (depth > MAX_DEPTH) throw new ThriftDecodeError('nesting too deep');
    const out: ThriftStruct = new Map();
    for (;;) {
      const type = this.#u8();
      if (type === T.STOP) return out;
      const id = this.#need(2).readInt16BE(this.#pos - 2);
      out.set(id, this.readValue(type, depth + 1));
    }
  }

  /** Read one value of wire type `type`. */
  readValue(type: number, depth: number): ThriftValue {
    switch (type) {
      case T.BOOL:
        return this.#u8() !== 0;
      case T.BYTE:
        return this.#need(1).readInt8(this.#pos - 1);
      case T.I16:
        return this.#need(2).readInt16BE(this.#pos - 2);
      case T.I32:
        return this.#need(4).readInt32BE(this.#pos - 4);
      case T.I64:
        return this.#need(8).readBigInt64BE(this.#pos - 8);
      case T.DOUBLE:
        return this.#need(8).readDoubleBE(this.#pos - 8);
      case T.STRING: {
        const n = this.#size();
        this.#need(n);
        return Buffer.from(this.#buf.subarray(this.#pos - n, this.#pos));
      }
      case T.STRUCT:
        return this.readStruct(depth);
      case T.LIST:
      case T.SET: {
        const elem = this.#u8();
        const n = this.#size();
        const out: ThriftValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.readValue(elem, depth + 1));
        return out;
      }
      case T.MAP: {
        const k = this.#u8();
        const v = this.#u8();
        const n = this.#size();
        const out = new Map<ThriftValue, ThriftValue>();
        for (let i = 0; i < n; i++) out.set(this.readValue(k, depth + 1), this.readValue(v, depth + 1));
        return out;
      }
      default:
        throw new ThriftDecodeError(`unknown field type ${type}`);
    }
  }

  #u8(): number {
    return this.#need(1)[this.#pos - 1]!;
  }

  #size(): number {
    const n = this.#need(4).readInt32BE(this.#pos - 4);
    if (n < 0 || n > MAX_ELEMENTS) throw new ThriftDecodeError(`bad size ${n}`);
    return n;
  }

  /** Advance by `n` bytes (throws when they are not there); returns the buffer. */
  #need(n: number): Buffer {
    if (this.#pos + n > this.#buf.length) throw new ThriftDecodeError(`truncated at byte ${this.#pos} (wanted ${n} more)`);
    this.#pos += n;
    return this.#buf;
  }
}
