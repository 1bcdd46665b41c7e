/**
 * Request checks the HTTP parser (llhttp, strict mode) leaves to the application, run
 * on every request before anything else. Each closes a way for the gateway and an
 * upstream to disagree about what a request is:
 *
 *   - method outside `server.methods` → 405 with `Allow` (TRACE, CONNECT and WebDAV
 *     verbs are refused by default; CONNECT never reaches here, see server.ts);
 *   - HTTP version other than 1.0/1.1 → 400 (llhttp accepts `GET /x` as HTTP/0.9 and
 *     `HTTP/2.0` in a text request line);
 *   - Host missing, empty or not `host[:port]` → 400 (for HTTP/1.0 too: routing by host
 *     needs one, and a Host with `/`, `@` or spaces is an injection attempt);
 *   - `Transfer-Encoding` other than exactly `chunked` → 400. llhttp refuses a
 *     non-chunked final coding only after the request was emitted, and accepts
 *     `gzip, chunked`, a coding the gateway would silently drop on the way up;
 *     in an HTTP/1.0 request any Transfer-Encoding is refused (RFC 9112 §6.1);
 *   - `#` in the request target → 400 (a fragment is never sent by clients, and the
 *     query is forwarded byte for byte, so the upstream would see it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, MethodNotAllowedError } from '../../common/index.js';
import { DEFAULT_METHODS, type ServerConfig } from '../../ipc/index.js';

// reg-name (unreserved, sub-delims, pct-encoded), IPv4 or an IP literal, optional port.
const HOST = /^(?:[A-Za-z0-9._~!$&'()*+,;=%-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** The per-request checks of one snapshot's server settings. */
export class RequestGuard {
  readonly #methods: ReadonlySet<string>;
  /** The allowlist, for `Allow` headers. */
  readonly allow: readonly string[];
  /** The last Host value that passed the syntax check. */
  #validHost = '';

  constructor(server: ServerConfig) {
    this.allow = server.methods ?? DEFAULT_METHODS;
    this.#methods = new Set(this.allow);
  }

  /**
   * Throw the error `req` deserves, if any (see the header). A malformed request also
   * closes its connection (RFC 9112 §6.3): what follows it on the socket cannot be
   * trusted to be a separate request.
   */
  check(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#methods.has(req.method!)) throw new MethodNotAllowedError(this.allow);
    const reason = this.#malformed(req);
    if (reason === null) return;
    res.shouldKeepAlive = false;
    throw new BadRequestError(reason);
  }

  #malformed(req: IncomingMessage): string | null {
    if (req.httpVersionMajor !== 1 || (req.httpVersionMinor !== 1 && req.httpVersionMinor !== 0)) {
      return `unsupported HTTP version ${req.httpVersion}`;
    }
    const host = req.headers.host;
    if (host === undefined || host === '') return 'missing Host header';
    // Clients send the same Host request after request: test each new value once.
    if (host !== this.#validHost) {
      if (!HOST.test(host) || portOf(host) > 65_535) return 'invalid Host header';
      this.#validHost = host;
    }
    const te = req.headers['transfer-encoding'];
    if (te !== undefined) {
      if (req.httpVersionMinor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
      if (te.length !== 7 || te.toLowerCase() !== 'chunked') return 'Transfer-Encoding must be exactly "chunked"';
    }
    if (req.url!.includes('#')) return 'a request target must not contain a fragment ("#")';
    return null;
  }
}

/** The port a syntactically valid Host names (0 when none). */
function portOf(host: string): number {
  const colon = host.lastIndexOf(':');
  return colon === -1 || host.endsWith(']') ? 0 : Number(host.slice(colon + 1));
}
