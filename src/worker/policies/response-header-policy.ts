/**
 * Security response headers, upstream header removal and CORS response headers of one
 * route, compiled once per snapshot and applied to every response the route produces:
 * proxied ones through the `ResponseHeaderHook` that `clientResponseHeaders` calls, and
 * the gateway's own (errors, preflights) through `record`.
 *
 * Rules:
 *   - a configured security header is added only when the upstream did not send that
 *     header: an application that sets its own, more specific policy (a page that must
 *     be framed by its own origin) keeps it. To force the gateway's value, also list the
 *     header in `removeResponseHeaders`;
 *   - `Strict-Transport-Security` only on requests known to be HTTPS: over the gateway's
 *     own TLS listener, or from a trusted proxy saying `X-Forwarded-Proto: https`
 *     (RFC 6797 §7.2 says HSTS over plain HTTP must be ignored);
 *   - `hideServerHeaders` drops `Server` and `X-Powered-By`; on a CORS route the
 *     upstream's own `Access-Control-*` headers are dropped too (the gateway is the
 *     authority, two answers would contradict each other).
 * The hook is allocation-free for routes without per-request state (no CORS, no HSTS):
 * one shared object per route; otherwise one small object per response.
 */
import type { IncomingMessage } from 'node:http';
import type { SecurityHeadersConfig } from '../../ipc/index.js';
import type { ResponseHeaderHook } from '../upstream/index.js';
import type { CorsPolicy } from './cors-policy.js';

const CORS_RESPONSE = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
];

/** Headers a route adds to, or removes from, its responses. */
export class ResponseHeaderPolicy implements ResponseHeaderHook {
  readonly hidden: ReadonlySet<string> | null;
  /** Flat `[lower name, value, ...]` of the static security headers. */
  readonly #defaults: readonly string[];
  readonly #hsts: string | null;
  readonly #cors: CorsPolicy | null;
  /** Bit per default header (HSTS last), by lower-cased name; `vary` is bit -1. */
  readonly #bits = new Map<string, number>();
  readonly #lengths = new Set<number>();

  constructor(config: SecurityHeadersConfig, cors: CorsPolicy | null) {
    const defaults: string[] = [];
    if (config.contentTypeOptions) defaults.push('x-content-type-options', 'nosniff');
    if (config.frameOptions !== false) defaults.push('x-frame-options', config.frameOptions);
    if (config.contentSecurityPolicy !== null) defaults.push('content-security-policy', config.contentSecurityPolicy);
    if (config.referrerPolicy !== null) defaults.push('referrer-policy', config.referrerPolicy);
    this.#defaults = defaults;
    const h = config.hsts;
    this.#hsts = h === false ? null : `max-age=${h.maxAgeSeconds}${h.includeSubDomains ? '; includeSubDomains' : ''}${h.preload ? '; preload' : ''}`;
    this.#cors = cors;
    const names = defaults.filter((_, i) => i % 2 === 0);
    if (this.#hsts !== null) names.push('strict-transport-security');
    names.forEach((n, i) => this.#bits.set(n, 1 << i));
    if (cors !== null && cors.varies) this.#bits.set('vary', -1);
    for (const n of this.#bits.keys()) this.#lengths.add(n.length);

    const hidden = new Set<string>(config.removeResponseHeaders);
    if (config.hideServerHeaders) hidden.add('server').add('x-powered-by');
    if (cors !== null) for (const n of CORS_RESPONSE) hidden.add(n);
    this.hidden = hidden.size === 0 ? null : hidden;
  }

  /** Whether `forRequest` needs to know if the request came over HTTPS. */
  get usesHttps(): boolean {
    return this.#hsts !== null;
  }

  /** The hook for one proxied response: the shared policy when nothing depends on the request. */
  forRequest(origin: string | undefined, https: boolean): ResponseHeaderHook {
    if ((origin === undefined || this.#cors === null) && !(https && this.#hsts !== null)) return this;
    return new RequestHeaders(this, origin, https);
  }

  /** `ResponseHeaderHook` for requests without per-request state. */
  finish(out: string[]): void {
    this.apply(out, undefined, false);
  }

  /** Append this route's headers to the upstream's (already filtered) flat headers. */
  apply(out: string[], origin: string | undefined, https: boolean): void {
    let present = 0;
    let vary = -1;
    for (let i = 0; i < out.length; i += 2) {
      const name = out[i]!;
      if (!this.#lengths.has(name.length)) continue;
      const bit = this.#bits.get(name.toLowerCase());
      if (bit === -1) vary = i;
      else if (bit !== undefined) present |= bit;
    }
    const d = this.#defaults;
    for (let i = 0; i < d.length; i += 2) if ((present & (1 << (i >> 1))) === 0) out.push(d[i]!, d[i + 1]!);
    if (https && this.#hsts !== null && (present & (1 << (d.length >> 1))) === 0) out.push('strict-transport-security', this.#hsts);
    const cors = this.#cors;
    if (cors === null) return;
    cors.pushActual(out, origin);
    if (!cors.varies) return;
    if (vary === -1) out.push('vary', 'Origin');
    else if (!/(^|,)\s*(origin|\*)\s*(,|$)/i.test(out[vary + 1]!)) out[vary + 1] += ', Origin';
  }

  /** The same headers as a record, for responses the gateway writes itself; `extra` wins. */
  record(origin: string | undefined, https: boolean, extra: Record<string, string> | null): Record<string, string> {
    const flat: string[] = [];
    this.apply(flat, origin, https);
    const out: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
    if (extra !== null) Object.assign(out, extra);
    return out;
  }
}

/** Per-response state: the request's Origin and whether it came over HTTPS. */
class RequestHeaders implements ResponseHeaderHook {
  readonly hidden: ReadonlySet<string> | null;
  readonly #policy: ResponseHeaderPolicy;
  readonly #origin: string | undefined;
  readonly #https: boolean;

  constructor(policy: ResponseHeaderPolicy, origin: string | undefined, https: boolean) {
    this.hidden = policy.hidden;
    this.#policy = policy;
    this.#origin = origin;
    this.#https = https;
  }

  finish(out: string[]): void {
    this.#policy.apply(out, this.#origin, this.#https);
  }
}

/**
 * Whether the client reached the gateway over HTTPS: its connection is the gateway's own
 * TLS (`server.tls`), or a trusted proxy says so in the last `X-Forwarded-Proto` entry,
 * the one it wrote itself: a proxy that appends to the field leaves the client's own
 * entries in front (`https, http` from a client that sent `https` over plain HTTP), as
 * `X-Forwarded-For` is read from the right for the same reason.
 */
export function requestIsHttps(req: IncomingMessage, trusted: { has(address: string | undefined): boolean }): boolean {
  if (connectionIsTls(req)) return true;
  const header = req.headers['x-forwarded-proto'];
  if (header === undefined || !trusted.has(req.socket.remoteAddress)) return false;
  const proto = typeof header === 'string' ? header : header.join(',');
  return proto.slice(proto.lastIndexOf(',') + 1).trim().toLowerCase() === 'https';
}

/** Whether `req` came over the gateway's own TLS listener. */
export function connectionIsTls(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}
