/**
 * Enforces the body size limit on bodies without a declared length (chunked). Declared
 * lengths are checked before proxying; a chunked body is counted as it streams through,
 * and the stream fails with PayloadTooLargeError the moment it crosses the limit, which
 * aborts the upstream request before the excess reaches it.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { PayloadTooLargeError } from '../../common/index.js';

/**
 * A pass-through that errors once more than `limit` bytes went through (0: no limit). It
 * is also where a malformed chunked body is reported (GatewayHandler.bodyMalformed
 * destroys it with a 400): the stream the proxy reads errors with the gateway's own error,
 * so the client gets an answer, as for the 413.
 */
export class BodyLimit extends Transform {
  readonly #limit: number;
  #seen = 0;

  /**
   * Pipe `req` through a limit. Not `stream.pipeline`: that would destroy the request
   * (and with it the socket) on overflow, leaving no way to answer 413.
   */
  static wrap(req: Readable, limit: number): BodyLimit {
    const counted = new BodyLimit(limit);
    req.on('error', (err) => counted.destroy(err));
    return req.pipe(counted);
  }

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#limit > 0 && this.#seen > this.#limit) cb(new PayloadTooLargeError(this.#limit));
    else cb(null, chunk);
  }
}
