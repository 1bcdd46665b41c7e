/**
 * Finding the credential in a request, for the methods a route accepts.
 *
 * Order: `Authorization: Bearer <token>` (a `gwk_` token is an API key, anything else a
 * JWT), then the API key header (default `X-API-Key`), then the API key query parameter
 * when configured (off by default: URLs end up in logs and browser histories). An
 * `Authorization` header that is not a Bearer credential the route accepts is left alone
 * (it may be meant for the upstream) and the other places are tried. More than one
 * `Authorization` header is refused: Node keeps the first, an upstream might read the
 * second, and the two must never disagree about who is calling.
 */
import type { IncomingMessage } from 'node:http';
import { API_KEY_PREFIX } from '../../../common/api-keys/index.js';
import { headerCount } from '../../../common/index.js';
import type { ApiKeysConfig } from '../../../ipc/index.js';
import { CredentialRejected } from './identity.js';

/** A credential found in a request. */
export interface Credential {
  readonly kind: 'jwt' | 'api-key';
  readonly value: string;
  /** Where it came from (for audit records). */
  readonly source: 'authorization' | 'header' | 'query';
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i;


/** The value of query parameter `name` in `query` (no `?`); throws when it repeats. */
export function queryValue(query: string, name: string): string | null {
  let found: string | null = null;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if (safeDecode(eq === -1 ? part : part.slice(0, eq)) !== name) continue;
    if (found !== null) throw new CredentialRejected(`query parameter "${name}" given more than once`, 'invalid API key');
    found = eq === -1 ? '' : (safeDecode(part.slice(eq + 1)) ?? '');
  }
  return found;
}

/** `query` without every `name` parameter (compared decoded, so encodings cannot hide it). */
export function withoutQueryParam(query: string, name: string): string {
  return query.split('&').filter((part) => {
    const eq = part.indexOf('=');
    return safeDecode(eq === -1 ? part : part.slice(0, eq)) !== name;
  }).join('&');
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** The credential of `req` for a route accepting JWTs (`jwt`) and/or API keys (`keys`). */
export function findCredential(
  req: IncomingMessage,
  query: string | null,
  accepts: { jwt: boolean; keys: ApiKeysConfig | null },
): Credential | null {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    if (headerCount(req.rawHeaders, 'authorization') > 1) throw new CredentialRejected('more than one Authorization header', 'invalid request: more than one Authorization header');
    const m = BEARER.exec(authorization);
    if (m !== null) {
      const token = m[1]!;
      const isKey = token.startsWith(API_KEY_PREFIX);
      if (isKey && accepts.keys !== null) return { kind: 'api-key', value: token, source: 'authorization' };
      if (!isKey && accepts.jwt) return { kind: 'jwt', value: token, source: 'authorization' };
    }
  }
  const keys = accepts.keys;
  if (keys === null) return null;
  const header = req.headers[keys.header];
  if (header !== undefined) {
    // A repeated header arrives joined with ", ", which no key matches: refused below.
    return { kind: 'api-key', value: Array.isArray(header) ? header.join(', ') : header, source: 'header' };
  }
  if (keys.queryParam !== null && query !== null) {
    const value = queryValue(query, keys.queryParam);
    if (value !== null) return { kind: 'api-key', value, source: 'query' };
  }
  return null;
}
