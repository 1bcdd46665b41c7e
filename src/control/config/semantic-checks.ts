/**
 * Checks the JSON schema cannot express: references between sections, path patterns,
 * route conflicts, upstream URLs and proxy CIDRs. Input is schema-valid and defaulted;
 * every problem is reported (none stops the others), at the key path the user wrote.
 *
 * Conflicts mirror the worker router exactly, so a config accepted here never fails to
 * build there. The router keeps one tree per host tier — each exact host, each
 * `*.suffix`, and "any host" (no `hosts`) — and a request tries the most specific tier
 * first. So an exact host and a wildcard or any-host route with the same pattern do not
 * conflict: the exact host wins. Within one tier two registrations conflict when their
 * patterns have the same shape (param names ignored) and their methods overlap (no
 * methods = every method). Priority does not separate them: a tree leaf holds one route
 * per method, so the router refuses such pairs whatever their priorities (priority only
 * orders matches across tiers and shapes).
 *
 * Rewrite templates: `/` then segments; a segment `:name` inserts that path param (it
 * must exist in every path of the route), a segment `*` inserts the wildcard remainder
 * (every path must end with `*`); any other segment is literal. No `?` or `#`: the
 * request's query string is forwarded as is.
 */
import { isIP } from 'node:net';
import type { HealthCheckConfig, OutlierConfig, RetryConfig, ServiceLimitsConfig } from '../../ipc/index.js';
import { resilienceProblems } from './resilience-checks.js';
import { parsePattern, type ParsedPattern, type ServerConfig } from '../../ipc/index.js';
import { parseLimit } from '../../common/rate-limit/index.js';
import type { KeyPath, Report } from './loader.js';
import { checkSecurity } from './security-checks.js';
import { checkTelemetry, type RawTelemetry } from './schema-telemetry.js';

/** A schema-valid route before normalization: exactly one of `path`/`paths` is expected. */
export interface RawRoute {
  id: string;
  path?: string;
  paths?: string[];
  methods: string[];
  hosts: string[];
  priority: number;
  service: string;
  stripPrefix: boolean;
  rewrite: string | null;
  preserveHost: boolean;
  retryable: boolean;
  websocket: boolean;
  httpsRedirect?: boolean | null;
  rateLimitHeaders: 'both' | 'ietf' | 'legacy' | 'none';
  rateLimits: { requests: number; per: 's' | 'm' | 'h' | 'd' | number; burst?: number; key: string }[];
}

/** A schema-valid service. */
export interface RawService {
  name: string;
  loadBalancer: string;
  instances: { url: string; weight: number }[];
  timeouts: { connectMs: number; headersMs: number; bodyMs: number; tunnelIdleMs: number };
  pool: { connections: number; pipelining: number; keepAliveTimeoutMs: number };
  rateLimits: RawRoute['rateLimits'];
  retry: RetryConfig;
  outlierDetection: OutlierConfig;
  limits: ServiceLimitsConfig;
  healthCheck: HealthCheckConfig;
}

/** The document after schema validation and defaults. */
export interface RawConfig {
  server: ServerConfig;
  services: RawService[];
  routes: RawRoute[];
  telemetry: RawTelemetry;
}

/** One path of one route, as the conflict check sees it. */
interface Registration {
  readonly route: RawRoute;
  readonly at: KeyPath;
  readonly pattern: string;
  readonly shape: string;
  readonly hosts: readonly string[];
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every limit of a route or service must parse (the schema checked the shape). */
function checkLimits(limits: RawRoute['rateLimits'], at: KeyPath, report: Report): void {
  limits.forEach((limit, j) => {
    const parsed = parseLimit({ requests: limit.requests, per: limit.per, ...(limit.burst === undefined ? {} : { burst: limit.burst }) });
    if (!parsed.ok) report([...at, j], parsed.reason);
  });
}

/** Report every semantic problem of `raw` (see the header). */
export function checkConfig(raw: RawConfig, report: Report): void {
  checkTelemetry(raw.telemetry, report);
  const services = new Map<string, number>();
  raw.services.forEach((service, i) => {
    const first = services.get(service.name);
    if (first === undefined) services.set(service.name, i);
    else report(['services', i, 'name'], `duplicate service name "${service.name}" (first at services[${first}])`);
    const seen = new Map<string, number>();
    service.instances.forEach((instance, j) => {
      const url = normalizeInstanceUrl(instance.url);
      if (url.reason !== undefined) report(['services', i, 'instances', j, 'url'], url.reason);
      else if (url.url !== undefined) {
        // Listed twice, an instance silently gets twice the share (and two breakers).
        const first = seen.get(url.url);
        if (first !== undefined) report(['services', i, 'instances', j, 'url'], `duplicate instance ${url.url} (first at instances[${first}]); use weight for a larger share`);
        else seen.set(url.url, j);
      }
      // Plain round robin ignores weights: a weight there would silently do nothing.
      if (service.loadBalancer === 'round-robin' && instance.weight !== 1) {
        report(['services', i, 'instances', j, 'weight'], `round-robin ignores weights (got ${instance.weight}); use loadBalancer: weighted-round-robin, or drop the weight`);
      }
    });
    resilienceProblems(service, ['services', i], report);
    checkLimits(service.rateLimits, ['services', i, 'rateLimits'], report);
  });
  raw.server.adminAllow.forEach((entry, i) => {
    const reason = checkCidr(entry);
    if (reason !== null) report(['server', 'adminAllow', i], reason);
  });
  raw.server.trustedProxies.forEach((entry, i) => {
    const reason = checkCidr(entry);
    if (reason !== null) report(['server', 'trustedProxies', i], reason);
  });
  checkIpRestriction((raw.server as { ipRestriction?: RawIpRestriction }).ipRestriction, ['server', 'ipRestriction'], report);

  const ids = new Map<string, number>();
  const registrations: Registration[] = [];
  raw.routes.forEach((route, i) => {
    const at = (...rest: (string | number)[]): KeyPath => ['routes', i, ...rest];
    checkIpRestriction((route as { ipRestriction?: RawIpRestriction }).ipRestriction, at('ipRestriction'), report);
    const first = ids.get(route.id);
    if (first !== undefined) report(at('id'), `duplicate route id "${route.id}" (first at routes[${first}])`);
    else ids.set(route.id, i);
    if (!services.has(route.service)) {
      report(at('service'), `unknown service "${route.service}" (defined: ${[...services.keys()].join(', ') || 'none'})`);
    }
    const hosts = checkHosts(route.hosts, at('hosts'), report);

    if (route.path !== undefined && route.paths !== undefined) report(at(), 'has both "path" and "paths"; use one');
    if (route.path === undefined && route.paths === undefined) report(at(), 'needs "path" or "paths"');
    const written = route.paths ?? (route.path === undefined ? [] : [route.path]);
    const pathAt = (j: number): KeyPath => (route.paths === undefined ? at('path') : at('paths', j));
    const parsed: ParsedPattern[] = [];
    written.forEach((pattern, j) => {
      const result = parseRoutePath(pattern, raw.server.reservedPrefix);
      if (typeof result === 'string') return report(pathAt(j), `invalid path "${pattern}": ${result}`);
      parsed.push(result);
      registrations.push({ route, at: pathAt(j), pattern, shape: result.shape, hosts });
      if (route.stripPrefix && !result.hasWildcard) {
        report(pathAt(j), `"stripPrefix: true" needs every path to end with "/*"; "${pattern}" does not`);
      }
    });
    if (route.stripPrefix && route.rewrite !== null) report(at('stripPrefix'), 'cannot be combined with "rewrite"');
    // RFC 6455 §4.1: the opening handshake is a GET.
    if (route.websocket && route.methods.length > 0 && !route.methods.includes('GET')) {
      report(at('websocket'), `needs GET among the route's methods (the WebSocket handshake is a GET); it has ${route.methods.join(', ')}`);
    }
    checkLimits(route.rateLimits, at('rateLimits'), report);
    if (route.rewrite !== null && parsed.length === written.length) {
      for (const reason of checkRewrite(route.rewrite, parsed, written)) report(at('rewrite'), reason);
    }
  });
  checkConflicts(registrations, report);
  checkSecurity(raw, report);
}

/** Parse a route path (the grammar the worker router uses) and refuse the reserved prefix. */
function parseRoutePath(pattern: string, reservedPrefix: string): ParsedPattern | string {
  const parsed = parsePattern(pattern);
  if (typeof parsed === 'string') return parsed;
  // `/*` and `/:x` stay legal: the worker answers the reserved prefix before routing.
  if (pattern === reservedPrefix || pattern.startsWith(reservedPrefix + '/')) {
    return `the reserved prefix "${reservedPrefix}" belongs to the gateway (health, readiness) and cannot be routed`;
  }
  return parsed;
}

/** Lower-cased hosts; a case-only duplicate is reported (the schema catches exact ones). */
function checkHosts(hosts: readonly string[], at: KeyPath, report: Report): string[] {
  const seen = new Map<string, number>();
  hosts.forEach((host, j) => {
    const key = host.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) report([...at, j], `duplicate of hosts[${first}] (hosts are case-insensitive)`);
    else seen.set(key, j);
  });
  return [...seen.keys()];
}

/** Problems of a rewrite template against the route's parsed paths. */
function checkRewrite(rewrite: string, parsed: readonly ParsedPattern[], written: readonly string[]): string[] {
  const reasons: string[] = [];
  if (!rewrite.startsWith('/')) reasons.push('must start with "/"');
  if (/[?#\s]/.test(rewrite)) reasons.push('must not contain "?", "#" or whitespace');
  let wildcards = 0;
  for (const segment of rewrite.split('/').slice(1)) {
    if (segment === '*') wildcards++;
    else if (segment.includes('*')) reasons.push('"*" must be a whole segment');
    else if (segment.startsWith(':')) {
      const name = segment.slice(1);
      if (!PARAM_NAME.test(name)) {
        reasons.push(`"${segment}" is not a parameter reference (a ":name" segment, name like ${PARAM_NAME.source})`);
        continue;
      }
      const without = written.filter((_, k) => !parsed[k]!.paramNames.includes(name));
      if (without.length > 0) reasons.push(`":${name}" is not a parameter of ${list(without)}`);
    }
  }
  if (wildcards > 1) reasons.push('"*" may appear only once');
  const tame = written.filter((_, k) => !parsed[k]!.hasWildcard);
  if (wildcards > 0 && tame.length > 0) reasons.push(`"*" needs every path to end with "/*"; ${list(tame)} does not`);
  return reasons;
}

/** Report each pair of same-tier, same-shape registrations whose methods overlap. */
function checkConflicts(registrations: readonly Registration[], report: Report): void {
  const tiers = new Map<string, { reg: Registration; host: string }[]>();
  for (const reg of registrations) {
    for (const host of reg.hosts.length === 0 ? [''] : reg.hosts) {
      const key = `${host}\n${reg.shape}`;
      const tier = tiers.get(key) ?? [];
      tier.push({ reg, host });
      tiers.set(key, tier);
    }
  }
  // One problem per pair of paths, listing every host they collide on.
  const pairs = new Map<string, { a: Registration; b: Registration; hosts: string[]; methods: string[] }>();
  for (const tier of tiers.values()) {
    for (let y = 1; y < tier.length; y++) {
      for (let x = 0; x < y; x++) {
        const a = tier[x]!.reg;
        const b = tier[y]!.reg;
        const methods = overlappingMethods(a.route.methods, b.route.methods);
        if (methods === null) continue;
        const key = `${a.at.join('.')}\n${b.at.join('.')}`;
        const pair = pairs.get(key) ?? { a, b, hosts: [], methods };
        pair.hosts.push(tier[y]!.host);
        pairs.set(key, pair);
      }
    }
  }
  for (const { a, b, hosts, methods } of pairs.values()) {
    const other = a.route === b.route ? `its own path "${a.pattern}"` : `route "${a.route.id}" path "${a.pattern}"`;
    const where = hosts.map((h) => (h === '' ? 'any host' : `host "${h}"`)).join(', ');
    const what = methods.length === 0 ? 'any method' : `method ${methods.join(', ')}`;
    const note =
      a.route.priority === b.route.priority
        ? ''
        : ' (priority does not separate routes with the same pattern shape on the same host)';
    report(b.at, `"${b.pattern}" conflicts with ${other}: same pattern shape on ${where} for ${what}${note}`);
  }
}

/** Shared methods: null when disjoint, `[]` when both take every method (as the router). */
function overlappingMethods(a: readonly string[], b: readonly string[]): string[] | null {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  const shared = a.filter((m) => b.includes(m));
  return shared.length === 0 ? null : shared;
}

type RawIpRestriction = { allow: string[]; deny: string[] };

/** Every entry of an `ipRestriction`'s lists is an address or CIDR. */
function checkIpRestriction(lists: RawIpRestriction | undefined, at: KeyPath, report: Report): void {
  // A shape the schema refused (null, a string for a list) is reported there.
  if (lists === null || typeof lists !== 'object') return;
  for (const key of ['allow', 'deny'] as const) {
    const list: unknown = lists[key];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: unknown, j) => {
      if (typeof entry !== 'string') return;
      const reason = checkCidr(entry);
      if (reason !== null) report([...at, key, j], reason);
    });
  }
}

/** An IP address or CIDR (IPv4 or IPv6), or the reason it is not one. */
export function checkCidr(entry: string): string | null {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = address.includes('%') ? 0 : isIP(address);
  if (version === 0) return `"${entry}" is not an IP address or CIDR (like 10.0.0.0/8 or fd00::/8)`;
  if (slash === -1) return null;
  const prefix = entry.slice(slash + 1);
  const max = version === 4 ? 32 : 128;
  if (!/^(?:0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) > max) return `"${entry}": prefix length must be 0..${max}`;
  // `::ffff:10.0.0.0/8` is an IPv6 /8 (0000::/8), which holds every IPv4 client, not 10/8.
  if (version === 6 && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) && Number(prefix) < 96) {
    return `"${entry}": below /96 an IPv4-mapped range covers every IPv4 address; write the IPv4 range instead (like ${address.slice(7)}/${Math.min(32, Number(prefix))})`;
  }
  return null;
}

/** A canonical instance URL, or why there is none. */
export type NormalizedUrl = { url: string; reason?: undefined } | { url?: undefined; reason: string };

/**
 * An instance URL in canonical form (`http://host[:port][/base]`, lower-case host,
 * default port and trailing `/` dropped), or the reason it is unusable.
 */
export function normalizeInstanceUrl(raw: string): NormalizedUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { reason: `"${raw}" is not a URL (expected http://host:port or https://host/base)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: `"${raw}": protocol must be http or https` };
  if (url.username !== '' || url.password !== '') return { reason: `"${raw}": credentials are not allowed in an instance URL` };
  // `?` and `#` cannot occur unescaped elsewhere in a URL, and an empty `?` is dropped by URL.
  if (raw.includes('?')) return { reason: `"${raw}": a query string is not allowed` };
  if (raw.includes('#')) return { reason: `"${raw}": a fragment is not allowed` };
  return { url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}` };
}

function list(paths: readonly string[]): string {
  return paths.map((p) => `"${p}"`).join(', ');
}
