/**
 * The identity as upstream request headers, and removal of every client copy of them.
 *
 * Whenever auth is configured, the identity headers (subject, roles, scopes, key id,
 * method) are stripped from EVERY request, routes without auth included, so a client can
 * never pose as someone by sending `X-Auth-Subject: admin`. Names are compared with `_`
 * read as `-` (and case-insensitively): CGI, PHP, WSGI and Rack upstreams turn both into
 * the same `HTTP_X_AUTH_SUBJECT` variable, so `X_Auth_Subject: admin` must go too.
 * API key credentials (the key header, and `Authorization` when it carries a `gwk_` key)
 * are stripped from every request as well, with or without route auth: the key is a
 * gateway secret the upstream has no use for. A JWT in `Authorization` is forwarded.
 *
 * Values: roles comma-separated, scopes space-separated (a role or scope containing `,`
 * never gets here: claims.ts and api-key-index.ts drop it). Every value has `%` and every
 * character outside printable ASCII percent-encoded (UTF-8), so an upstream that
 * percent-decodes gets exactly the original: a subject `%61dmin` arrives as `%2561dmin`,
 * never as something that decodes to `admin`.
 */
import { API_KEY_PREFIX } from '../../../common/api-keys/index.js';
import { cgiName, type IdentityHeadersConfig } from '../../../ipc/index.js';
import type { Identity } from './identity.js';


/** Rewrites raw request headers for the upstream. */
export class IdentityHeaders {
  readonly #config: IdentityHeadersConfig;
  readonly #strip: Set<string>;
  readonly #keys: boolean;

  constructor(config: IdentityHeadersConfig, apiKeyHeader: string | null) {
    this.#config = config;
    this.#strip = new Set([config.subject, config.roles, config.scopes, config.keyId, config.method].map(cgiName));
    this.#keys = apiKeyHeader !== null;
    if (apiKeyHeader !== null) this.#strip.add(cgiName(apiKeyHeader));
  }

  /**
   * `raw` without identity/credential headers, plus the identity (when there is one).
   * `dropAuthorization` drops `Authorization` whatever it holds; with API keys configured
   * an `Authorization: Bearer gwk_…` is dropped in any case.
   */
  rewrite(raw: readonly string[], identity: Identity | null, dropAuthorization: boolean): string[] {
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = cgiName(raw[i]!);
      if (this.#strip.has(name)) continue;
      if (name === 'authorization' && (dropAuthorization || (this.#keys && isKeyBearer(raw[i + 1]!)))) continue;
      out.push(raw[i]!, raw[i + 1]!);
    }
    if (identity === null) return out;
    const c = this.#config;
    out.push(c.subject, headerSafe(identity.subject), c.method, identity.method);
    if (identity.roles.length > 0) out.push(c.roles, headerSafe(identity.roles.join(',')));
    if (identity.scopes.length > 0) out.push(c.scopes, headerSafe(identity.scopes.join(' ')));
    if (identity.keyId !== null) out.push(c.keyId, identity.keyId);
    return out;
  }
}

/** Whether an `Authorization` value is a Bearer API key (`gwk_…`). */
function isKeyBearer(v: string): boolean {
  const m = /^[ \t]*Bearer[ \t]+(\S+)/i.exec(v);
  return m !== null && m[1]!.startsWith(API_KEY_PREFIX);
}

/** `v` with `%` and everything outside printable ASCII percent-encoded (UTF-8). */
export function headerSafe(v: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(v)) return v;
  // Lone surrogates (possible in JSON strings) cannot be UTF-8 encoded: U+FFFD instead.
  const wellFormed = v.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return wellFormed.replace(/[^\x20-\x24\x26-\x7e]/gu, (ch) => encodeURIComponent(ch));
}
