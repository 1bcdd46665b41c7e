/**
 * The identity as upstream request headers, and removal of every client copy of them.
 *
 * Whenever auth is configured, the identity headers (subject, roles, scopes, key id,
 * method) are stripped from EVERY request, routes without auth included, so a client can
 * never pose as someone by sending `X-Auth-Subject: admin`. API key credentials (the key
 * header, and `Authorization` when it carried a `gwk_` key) are stripped too: the key is
 * a gateway secret the upstream has no use for. A JWT in `Authorization` is forwarded.
 * Values: roles comma-separated, scopes space-separated; a value with characters
 * outside printable ASCII is percent-encoded (UTF-8).
 */
import type { IdentityHeadersConfig } from '../../../ipc/index.js';
import type { Identity } from './identity.js';

/** Rewrites raw request headers for the upstream. */
export class IdentityHeaders {
  readonly #config: IdentityHeadersConfig;
  readonly #strip: Set<string>;

  constructor(config: IdentityHeadersConfig, apiKeyHeader: string | null) {
    this.#config = config;
    this.#strip = new Set([config.subject, config.roles, config.scopes, config.keyId, config.method]);
    if (apiKeyHeader !== null) this.#strip.add(apiKeyHeader);
  }

  /** `raw` without identity/credential headers, plus the identity (when there is one). */
  rewrite(raw: readonly string[], identity: Identity | null, dropAuthorization: boolean): string[] {
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const lower = raw[i]!.toLowerCase();
      if (this.#strip.has(lower) || (dropAuthorization && lower === 'authorization')) continue;
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

/** `v` as is when it is printable ASCII, else percent-encoded (a hand-edited key file may hold anything). */
function headerSafe(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v);
}
