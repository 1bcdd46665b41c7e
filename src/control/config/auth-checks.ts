/**
 * Checks and snapshot building for the `auth` section (after the schema passed).
 *
 * Decisions enforced here, not left to runtime:
 *  - A provider's algorithms are all HMAC (HS*) or all public-key; never both. With one
 *    key family per provider, an RSA public key can never be handed to an HS256 check
 *    (the classic key-confusion attack), whatever the token's header says.
 *  - HMAC providers take their key from `secret` only (interpolated from the environment),
 *    at least as long as the hash output (RFC 7518 §3.2). Public-key providers use
 *    `jwksUrl` and/or `keyFiles`.
 *  - Key files (PEM public keys, or JWK / JWKS JSON) are read and validated here, in the
 *    control plane, so `gateway check` reports an unreadable or wrong key; workers get
 *    public JWKs in the snapshot. A symmetric JWK (`kty: oct`) is refused in a key file.
 *  - API keys need GATEWAY_API_KEY_PEPPER in the environment.
 *  - Every provider says which audiences it accepts, or `audiences: any` to not check
 *    `aud` at all: leaving it out is refused, so the check is never off by accident.
 *  - `jwksUrl` is https, except for loopback hosts (a sidecar or a test IdP): keys fetched
 *    over plain http can be swapped by anyone on the path.
 *  - Identity header names and the API key header are never hop-by-hop, framing, host or
 *    client-address/forwarding headers, and never the same header twice. Names compare
 *    lower-cased with `_` read as `-` (identity-headers.ts strips them that way).
 *  - Routes may name only configured methods; two providers with the same issuer on one
 *    route are refused (a token would only ever be checked against the first).
 *  - `api-key`/`subject` rate-limit keys need route auth; on a service, every route of
 *    that service needs auth.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pepperProblem, PEPPER_ENV } from '../../common/api-keys/index.js';
import { CLIENT_IP_HEADERS, FORWARDING_HEADERS, HOP_BY_HOP_HEADERS, cgiName, type AuthConfig, type ConfigSnapshot, type JwtAlgorithm, type RouteAuthConfig } from '../../ipc/index.js';
import { isIP } from 'node:net';
import type { EnvVars } from './interpolate.js';
import type { KeyPath, Report } from './loader.js';

/** A schema-valid JWT provider. */
interface RawProvider {
  name: string;
  issuer: string;
  audiences?: string[] | 'any';
  algorithms: JwtAlgorithm[];
  jwksUrl?: string;
  jwks: { maxAgeMs: number; minRefetchIntervalMs: number; timeoutMs: number };
  keyFiles?: string[];
  secret?: string;
  clockToleranceSec: number;
  maxTokenBytes: number;
  requireExp: boolean;
  claims: { subject: string; roles: string | null; scopes: string | null };
}

/** The schema-valid parts of the document this file reads. */
export interface RawAuthDocument {
  auth?: {
    realm: string;
    jwt: RawProvider[];
    apiKeys?: { header: string; queryParam: string | null; refreshMs: number };
    identityHeaders: AuthConfig['identityHeaders'];
    tokenCacheSize: number;
  };
  services: { name: string; rateLimits: { key: string }[] }[];
  routes: { id: string; service: string; auth?: { methods?: string[]; roles: string[]; scopes: string[] }; rateLimits: { key: string }[] }[];
}

/** Public keys read from each provider's key files, by provider index. */
export type ResolvedKeys = Map<number, Record<string, unknown>[]>;

// Hop-by-hop, framing/host, client-address/forwarding and credential headers: the gateway
// or the client owns them, so they are never identity headers or the API key header.
// The first three lists are the ones the data plane strips (ipc/header-names.ts).
const RESERVED_HEADERS = new Set([
  ...HOP_BY_HOP_HEADERS,
  ...FORWARDING_HEADERS,
  ...CLIENT_IP_HEADERS,
  'content-length',
  'authorization',
  'cookie',
]);
const RESERVED_PREFIXES = ['proxy-', 'x-forwarded-'];

const reservedHeader = (name: string): boolean => {
  const k = cgiName(name);
  return RESERVED_HEADERS.has(k) || RESERVED_PREFIXES.some((p) => k.startsWith(p));
};
const MIN_SECRET: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };

/** Report every problem of the auth settings; resolves with the keys read from files. */
export async function checkAuth(doc: RawAuthDocument, ctx: { env: EnvVars; configDir: string }, report: Report): Promise<ResolvedKeys> {
  const keys: ResolvedKeys = new Map();
  const auth = doc.auth;
  const methods = new Set<string>();
  if (auth !== undefined) {
    const names = new Map<string, number>();
    for (const [i, p] of auth.jwt.entries()) {
      const at = (...rest: (string | number)[]): KeyPath => ['auth', 'jwt', i, ...rest];
      const first = names.get(p.name);
      if (first !== undefined) report(at('name'), `duplicate provider name "${p.name}" (first at auth.jwt[${first}])`);
      else names.set(p.name, i);
      methods.add(`jwt:${p.name}`);
      checkProvider(p, at, report);
      if (p.keyFiles !== undefined) keys.set(i, await readKeyFiles(p, ctx.configDir, at, report));
    }
    if (auth.apiKeys !== undefined) {
      methods.add('api-key');
      const problem = pepperProblem(ctx.env[PEPPER_ENV]);
      if (problem !== null) report(['auth', 'apiKeys'], problem);
      if (auth.apiKeys.header.toLowerCase() === 'authorization') report(['auth', 'apiKeys', 'header'], '"Authorization: Bearer gwk_..." is always accepted; name another header here');
      else if (reservedHeader(auth.apiKeys.header)) report(['auth', 'apiKeys', 'header'], `"${auth.apiKeys.header}" is a hop-by-hop, framing, forwarding or credential header; pick another name`);
    }
    const seen = new Map<string, string>();
    if (auth.apiKeys !== undefined) seen.set(cgiName(auth.apiKeys.header), 'apiKeys.header');
    for (const [field, name] of Object.entries(auth.identityHeaders)) {
      if (reservedHeader(name)) report(['auth', 'identityHeaders', field], `"${name}" is a header the gateway or the client owns (hop-by-hop, framing, forwarding or credential); pick another name`);
      const other = seen.get(cgiName(name));
      if (other !== undefined) report(['auth', 'identityHeaders', field], `"${name}" is the same header as ${other.startsWith('apiKeys') ? other : `identityHeaders.${other}`} (names compare case-insensitively, "_" as "-")`);
      seen.set(cgiName(name), field);
    }
  }
  const issuers = new Map((auth?.jwt ?? []).map((p) => [`jwt:${p.name}`, p.issuer]));
  for (const [i, route] of doc.routes.entries()) {
    if (route.auth !== undefined) {
      if (auth === undefined) report(['routes', i, 'auth'], 'needs the top-level "auth" section (jwt providers and/or apiKeys)');
      else if (methods.size === 0) report(['routes', i, 'auth'], 'no authentication method is configured (add auth.jwt providers or auth.apiKeys)');
      for (const [j, m] of (route.auth.methods ?? []).entries()) {
        if (auth !== undefined && !methods.has(m)) {
          report(['routes', i, 'auth', 'methods', j], `unknown method "${m}" (configured: ${[...methods].join(', ') || 'none'})`);
        }
      }
      checkIssuers(route.auth.methods ?? [...methods], issuers, ['routes', i, 'auth', ...(route.auth.methods === undefined ? [] : ['methods'])], report);
    }
    for (const [j, limit] of route.rateLimits.entries()) {
      if ((limit.key === 'api-key' || limit.key === 'subject') && route.auth === undefined) {
        report(['routes', i, 'rateLimits', j, 'key'], `"${limit.key}" needs the route to have "auth" (otherwise there is no identity to key by)`);
      }
    }
  }
  for (const [i, service] of doc.services.entries()) {
    const open = doc.routes.filter((r) => r.service === service.name && r.auth === undefined).map((r) => r.id);
    if (open.length === 0) continue;
    for (const [j, limit] of service.rateLimits.entries()) {
      if (limit.key === 'api-key' || limit.key === 'subject') {
        report(['services', i, 'rateLimits', j, 'key'], `"${limit.key}" needs every route of service "${service.name}" to have "auth" (no identity to key by on: ${open.join(', ')})`);
      }
    }
  }
  return keys;
}

/** Two providers with one issuer on a route: only the first would ever check its tokens. */
function checkIssuers(routeMethods: readonly string[], issuers: ReadonlyMap<string, string>, at: KeyPath, report: Report): void {
  const first = new Map<string, string>();
  for (const m of routeMethods) {
    const iss = issuers.get(m);
    if (iss === undefined) continue;
    const prior = first.get(iss);
    if (prior === undefined) first.set(iss, m);
    else report(at, `"${prior}" and "${m}" have the same issuer "${iss}": a token names only its issuer, so "${m}" would never be used; give each route one provider per issuer`);
  }
}

/** 127.0.0.0/8, ::1 or localhost (URL hostnames: IPv6 in brackets, IPv4 normalized). */
function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

function checkProvider(p: RawProvider, at: (...rest: (string | number)[]) => KeyPath, report: Report): void {
  if (p.audiences === undefined) report(at('audiences'), 'is required: the "aud" values this provider accepts (any one must match), or "audiences: any" to accept tokens for any audience');
  const hmac = p.algorithms.filter((a) => a.startsWith('HS'));
  const asym = p.algorithms.filter((a) => !a.startsWith('HS'));
  if (hmac.length > 0 && asym.length > 0) {
    report(at('algorithms'), `mixes HMAC (${hmac.join(', ')}) and public-key (${asym.join(', ')}) algorithms; use one provider each, so a public key can never verify an HMAC token`);
  }
  if (hmac.length > 0) {
    if (p.secret === undefined) report(at('secret'), `is required for ${hmac.join(', ')} (e.g. secret: \${JWT_SECRET}, set in the environment)`);
    else {
      const need = Math.max(...hmac.map((a) => MIN_SECRET[a]!));
      const have = Buffer.byteLength(p.secret);
      if (have < need) report(at('secret'), `must be at least ${need} bytes for ${hmac.join(', ')} (got ${have})`);
    }
    if (p.jwksUrl !== undefined) report(at('jwksUrl'), 'HMAC providers take their key from "secret" only');
    if (p.keyFiles !== undefined) report(at('keyFiles'), 'HMAC providers take their key from "secret" only');
  }
  if (asym.length > 0) {
    if (p.secret !== undefined) report(at('secret'), `is only for HS* algorithms; ${asym.join(', ')} use public keys (jwksUrl or keyFiles)`);
    if (p.jwksUrl === undefined && p.keyFiles === undefined) report(at(), `needs "jwksUrl" or "keyFiles" for ${asym.join(', ')}`);
  }
  if (p.jwksUrl !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(p.jwksUrl);
    } catch {
      report(at('jwksUrl'), `"${p.jwksUrl}" is not a URL`);
    }
    if (url !== null && url.protocol !== 'https:' && url.protocol !== 'http:') report(at('jwksUrl'), 'must be an http or https URL');
    else if (url !== null && url.protocol === 'http:' && !isLoopback(url.hostname)) report(at('jwksUrl'), `must be https: keys fetched over plain http can be replaced in transit (http is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)`);
    if (url !== null && (url.username !== '' || url.password !== '')) report(at('jwksUrl'), 'must not contain credentials');
  }
}

/** Read and validate each key file of `p`; public JWKs out. */
async function readKeyFiles(p: RawProvider, configDir: string, at: (...rest: (string | number)[]) => KeyPath, report: Report): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const [j, name] of (p.keyFiles ?? []).entries()) {
    const file = resolve(configDir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      report(at('keyFiles', j), `cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    try {
      for (const jwk of parseKeyFile(text)) {
        const fits = p.algorithms.filter((a) => keyFits(jwk, a));
        if (fits.length === 0) throw new Error(`a ${describeKey(jwk)} key cannot verify ${p.algorithms.join(', ')}`);
        out.push(jwk);
      }
    } catch (err) {
      report(at('keyFiles', j), `${file}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Public JWKs from a PEM (public or private key) or a JWK / JWKS JSON document. */
function parseKeyFile(text: string): Record<string, unknown>[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    if (!trimmed.startsWith('-----BEGIN')) throw new Error('not a PEM key or JWK/JWKS JSON');
    return [createPublicKey(trimmed).export({ format: 'jwk' }) as Record<string, unknown>];
  }
  const doc = JSON.parse(trimmed) as { keys?: unknown; kty?: unknown };
  const list = Array.isArray(doc.keys) ? (doc.keys as Record<string, unknown>[]) : [doc as Record<string, unknown>];
  if (list.length === 0) throw new Error('the JWKS has no keys');
  return list.map((jwk) => {
    if (jwk.kty === 'oct') throw new Error('symmetric (kty "oct") keys do not belong in key files; use "secret"');
    const pub = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ format: 'jwk' }) as Record<string, unknown>;
    for (const k of ['kid', 'alg', 'use']) if (typeof jwk[k] === 'string') pub[k] = jwk[k];
    return pub;
  });
}

function keyFits(jwk: Record<string, unknown>, alg: string): boolean {
  if (typeof jwk.alg === 'string' && jwk.alg !== alg) return false;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return jwk.kty === 'RSA';
  if (alg === 'ES256') return jwk.kty === 'EC' && jwk.crv === 'P-256';
  if (alg === 'ES384') return jwk.kty === 'EC' && jwk.crv === 'P-384';
  if (alg === 'ES512') return jwk.kty === 'EC' && jwk.crv === 'P-521';
  if (alg === 'EdDSA') return jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448');
  return false;
}

function describeKey(jwk: Record<string, unknown>): string {
  return `${String(jwk.kty)}${typeof jwk.crv === 'string' ? ` ${jwk.crv}` : ''}${typeof jwk.alg === 'string' ? ` (alg ${jwk.alg})` : ''}`;
}

/** The snapshot with `auth` and each route's `auth` filled in from the document. */
export function withAuth(snapshot: ConfigSnapshot, doc: RawAuthDocument, keys: ResolvedKeys): ConfigSnapshot {
  const a = doc.auth;
  const methods: string[] = a === undefined ? [] : [...a.jwt.map((p) => `jwt:${p.name}`), ...(a.apiKeys === undefined ? [] : ['api-key'])];
  const auth: AuthConfig | null =
    a === undefined
      ? null
      : {
          realm: a.realm,
          jwt: a.jwt.map((p, i) => ({
            name: p.name,
            issuer: p.issuer,
            audiences: p.audiences === 'any' || p.audiences === undefined ? ('any' as const) : [...p.audiences],
            algorithms: [...p.algorithms],
            jwks: p.jwksUrl === undefined ? null : { url: p.jwksUrl, ...p.jwks },
            keys: keys.get(i) ?? [],
            secret: p.secret ?? null,
            clockToleranceSec: p.clockToleranceSec,
            maxTokenBytes: p.maxTokenBytes,
            requireExp: p.requireExp,
            claims: { ...p.claims },
          })),
          apiKeys: a.apiKeys === undefined ? null : { header: a.apiKeys.header.toLowerCase(), queryParam: a.apiKeys.queryParam, refreshMs: a.apiKeys.refreshMs },
          identityHeaders: lowerValues(a.identityHeaders),
          tokenCacheSize: a.tokenCacheSize,
        };
  if (auth === null) return snapshot; // no auth configured: the snapshot is exactly the core one
  const routes = snapshot.routes.map((r, i) => {
    const ra = doc.routes[i]?.auth;
    if (ra === undefined) return r;
    const routeAuth: RouteAuthConfig = { methods: ra.methods ?? methods, roles: [...ra.roles], scopes: [...ra.scopes] };
    return { ...r, auth: routeAuth };
  });
  return { ...snapshot, auth, routes };
}

function lowerValues<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v).toLowerCase()])) as T;
}
