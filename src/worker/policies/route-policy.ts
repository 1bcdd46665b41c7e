/**
 * The hardening, CORS and response-header policy of one route, compiled once per
 * snapshot: effective limits (the route's, which config validation keeps at or below
 * the server-wide ones the parser already enforces), its `CorsPolicy` and its
 * `ResponseHeaderPolicy` (server-wide security headers with the route's overrides), and
 * its `IpRestriction` (the server's and the route's client address lists).
 */
import type { IncomingMessage } from 'node:http';
import { HeadersTooLargeError, UriTooLongError, type GatewayError } from '../../common/index.js';
import { DEFAULT_SECURITY_HEADERS, type RouteConfig, type ServerConfig } from '../../ipc/index.js';
import { CorsPolicy } from './cors-policy.js';
import { IpRestriction } from './ip-restriction.js';
import { ResponseHeaderPolicy } from './response-header-policy.js';

/** Per-route request limits and response header rules. */
export class RoutePolicy {
  readonly cors: CorsPolicy | null;
  readonly headers: ResponseHeaderPolicy;
  /** Client address lists to pass before anything else is done for a request; null: none. */
  readonly ipRestriction: IpRestriction | null;
  /** Effective body limit (0 = unlimited), for the body-size check before proxying. */
  readonly maxBodyBytes: number;
  readonly #maxUrl: number;
  readonly #maxHeaderCount: number;
  readonly #maxHeaderBytes: number;
  /** Whether `limitError` has anything to check beyond what the server already did. */
  readonly #strict: boolean;

  constructor(route: RouteConfig | null, server: ServerConfig) {
    const limits = route?.limits ?? {};
    const s = server.limits;
    this.maxBodyBytes = limits.maxBodyBytes ?? s.maxBodyBytes;
    this.#maxUrl = limits.maxUrlBytes ?? Infinity;
    this.#maxHeaderCount = limits.maxHeaderCount ?? Infinity;
    this.#maxHeaderBytes = limits.maxHeaderBytes ?? Infinity;
    this.#strict = limits.maxUrlBytes !== undefined || limits.maxHeaderCount !== undefined || limits.maxHeaderBytes !== undefined;
    this.cors = route?.cors == null ? null : new CorsPolicy(route.cors);
    const headers = { ...(server.securityHeaders ?? DEFAULT_SECURITY_HEADERS), ...route?.securityHeaders };
    this.headers = new ResponseHeaderPolicy(headers, this.cors);
    this.ipRestriction = route === null ? null : IpRestriction.of(server.ipRestriction, route.ipRestriction);
  }

  /**
   * The 414/431 for a request within the server-wide limits but over this route's. Header
   * bytes are counted as field lines on the wire (`name: value\r\n`), without the
   * request line.
   */
  limitError(req: IncomingMessage, url: string): GatewayError | null {
    if (!this.#strict) return null;
    if (url.length > this.#maxUrl) return new UriTooLongError(this.#maxUrl);
    const raw = req.rawHeaders;
    if (raw.length > this.#maxHeaderCount * 2) return new HeadersTooLargeError(`more than ${this.#maxHeaderCount} request headers`);
    if (this.#maxHeaderBytes === Infinity) return null;
    let bytes = 0;
    for (let i = 0; i < raw.length; i += 2) bytes += raw[i]!.length + raw[i + 1]!.length + 4;
    return bytes > this.#maxHeaderBytes ? new HeadersTooLargeError(`request headers exceed ${this.#maxHeaderBytes} bytes`) : null;
  }
}
