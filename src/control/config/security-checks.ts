/**
 * Semantic checks of the hardening, CORS and security-header config (the schema has
 * already checked types and ranges). Called from `checkConfig`; every problem is
 * reported at the key path the user wrote.
 *
 * Origin grammar (what `routes[].cors.origins` accepts):
 *   - `*` alone: any origin (never with `credentials: true`: browsers refuse that answer);
 *   - `scheme://host[:port]`, scheme http or https, host a DNS name, IPv4 or [IPv6],
 *     written in lower case as browsers serialize it, no path, not even a trailing `/`;
 *   - `scheme://*.domain[:port]`: one or more labels in front of `domain`, never `domain`
 *     itself. Ports match exactly; no port means the scheme's default port.
 */
import type { KeyPath, Report } from './loader.js';
import type { RawConfig, RawRoute } from './semantic-checks.js';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = `(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])`;
const ORIGIN = new RegExp(`^https?://(\\*\\.)?${HOST}(?::[0-9]{1,5})?$`);
// Removing these would change how the response is framed, or what the gateway promises.
const PROTECTED = new Set(['content-length', 'transfer-encoding', 'connection', 'x-request-id', 'via']);

/** Why `origin` is not a valid CORS origin entry, or null. */
export function originProblem(origin: string): string | null {
  if (origin === '*') return null;
  if (origin !== origin.toLowerCase()) return `"${origin}" must be lower case (browsers send origins in lower case)`;
  if (/^https?:\/\/[^/]+\/.*$/.test(origin)) return `"${origin}": an origin has no path (drop everything from the first "/" after the host)`;
  if (!ORIGIN.test(origin)) {
    return `"${origin}" is not an origin (expected "https://app.example.com", "https://*.example.com" or "*")`;
  }
  const port = /:([0-9]+)$/.exec(origin);
  if (port !== null && Number(port[1]) > 65535) return `"${origin}": port must be 1..65535`;
  return null;
}

type RawLimits = Record<'maxBodyBytes' | 'maxUrlBytes' | 'maxHeaderBytes' | 'maxHeaderCount', number | undefined>;

/** Report every hardening/CORS/header problem of `raw`. */
export function checkSecurity(raw: RawConfig, report: Report): void {
  const server = raw.server as RawConfig['server'] & { methods: string[]; securityHeaders: { removeResponseHeaders: string[] } };
  server.methods.forEach((m, i) => {
    if (m === 'CONNECT') report(['server', 'methods', i], 'CONNECT (tunnelling) is not supported by the gateway');
  });
  checkRemoved(server.securityHeaders.removeResponseHeaders, ['server', 'securityHeaders', 'removeResponseHeaders'], report);
  checkHsts((server.securityHeaders as { hsts?: unknown }).hsts, ['server', 'securityHeaders', 'hsts'], report);
  raw.routes.forEach((route, i) => checkRoute(route as RawRoute & SecurityRoute, ['routes', i], server, report));
}

interface SecurityRoute {
  limits?: RawLimits;
  cors?: { origins: string[]; headers: string[]; credentials: boolean };
  securityHeaders?: { removeResponseHeaders?: string[] };
}

function checkRoute(route: RawRoute & SecurityRoute, at: KeyPath, server: RawConfig['server'] & { methods: string[] }, report: Report): void {
  route.methods.forEach((m, j) => {
    if (!server.methods.includes(m)) {
      report([...at, 'methods', j], `"${m}" is not in server.methods (${server.methods.join(', ')}), so no request could use it`);
    }
  });
  if (route.limits !== undefined) {
    for (const key of ['maxBodyBytes', 'maxUrlBytes', 'maxHeaderBytes', 'maxHeaderCount'] as const) {
      const value = route.limits[key];
      const ceiling = server.limits[key];
      // maxBodyBytes 0 means unlimited server-wide: any route value is stricter.
      if (value === undefined || (key === 'maxBodyBytes' && ceiling === 0)) continue;
      if (value > ceiling) {
        report([...at, 'limits', key], `${value} is above server.limits.${key} (${ceiling}); a route limit can only be stricter`);
      }
    }
  }
  const cors = route.cors;
  if (cors !== undefined) {
    if (!server.methods.includes('OPTIONS')) {
      report([...at, 'cors'], 'needs OPTIONS in server.methods: browsers send CORS preflights as OPTIONS requests');
    }
    const star = cors.origins.indexOf('*');
    cors.origins.forEach((origin, j) => {
      const reason = originProblem(origin);
      if (reason !== null) report([...at, 'cors', 'origins', j], reason);
    });
    if (star !== -1 && cors.origins.length > 1) report([...at, 'cors', 'origins', star], '"*" must be the only origin');
    if (cors.credentials && star !== -1) {
      report([...at, 'cors', 'credentials'], 'cannot be true with origins ["*"] (browsers refuse credentialed wildcard answers); list the origins');
    }
    const anyHeader = cors.headers.indexOf('*');
    if (cors.credentials && anyHeader !== -1) {
      report([...at, 'cors', 'headers', anyHeader], '"*" cannot be used with credentials: true (browsers read it literally); list the headers');
    }
  }
  checkHsts((route.securityHeaders as { hsts?: unknown } | undefined)?.hsts, [...at, 'securityHeaders', 'hsts'], report);
  const removed = route.securityHeaders?.removeResponseHeaders;
  if (removed !== undefined) checkRemoved(removed, [...at, 'securityHeaders', 'removeResponseHeaders'], report);
}

function checkRemoved(names: readonly string[], at: KeyPath, report: Report): void {
  names.forEach((name, j) => {
    if (PROTECTED.has(name.toLowerCase())) report([...at, j], `"${name}" cannot be removed (the gateway manages it)`);
  });
}

function checkHsts(hsts: unknown, at: KeyPath, report: Report): void {
  if (hsts === true) report(at, 'must be false or a mapping such as { maxAgeSeconds: 31536000 }, got true');
}
