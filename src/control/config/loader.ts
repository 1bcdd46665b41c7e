/**
 * Loads the gateway YAML into a frozen, versioned `ConfigSnapshot`.
 *
 * Stages, each collecting every problem it finds: read → parse (syntax errors stop here:
 * nothing after them is trustworthy) → `${VAR}` interpolation → GATEWAY_* overrides →
 * JSON schema (types, ranges, unknown keys, defaults) → semantic checks. Semantic checks
 * need schema-valid data, so they run only when the schema passed. A value whose
 * interpolation failed is reported once: later complaints about it are echoes and are
 * dropped. Each problem names the key path (`routes[2].methods[0]`) and the line of the
 * node there, or of its nearest existing parent (a missing required key, a default).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLError } from 'yaml';
import type { ConfigProblem } from '../../common/index.js';
import { deepFreeze, type ConfigSnapshot, type LoadBalancerKind, type TlsConfig } from '../../ipc/index.js';
import { interpolateDocument, type EnvVars } from './interpolate.js';
import { schemaProblems, validateSchema } from './schema.js';
import { checkConfig, normalizeInstanceUrl, type RawConfig } from './semantic-checks.js';
import { routeSecuritySnapshot, serverSecuritySnapshot } from './security-snapshot.js';
import { checkAuth, withAuth, type RawAuthDocument, type ResolvedKeys } from './auth-checks.js';
import { checkTls, type RawTlsDocument } from './tls-checks.js';

/** Outcome of `loadConfig`: a frozen snapshot, or every problem found. */
export type LoadResult = { ok: true; snapshot: ConfigSnapshot } | { ok: false; problems: ConfigProblem[] };

/** What `loadConfig` needs besides the file. */
export interface LoadOptions {
  /** Variables for `${VAR}` and GATEWAY_* overrides (usually `process.env`). */
  readonly env: EnvVars;
  /** Snapshot version to stamp (1 for the startup config, +1 per reload). */
  readonly version: number;
}

/** A key path into the config: `['routes', 2, 'methods', 0]` is `routes[2].methods[0]`. */
export type KeyPath = readonly (string | number)[];

/** Collects one problem at a key path. */
export type Report = (path: KeyPath, message: string) => void;

// Set from the environment after interpolation; an empty value counts as unset, as
// systemd and `docker run -e NAME=` produce those when nothing was meant.
const ENV_OVERRIDES = [
  { name: 'GATEWAY_HOST', key: 'host', integer: false },
  { name: 'GATEWAY_PORT', key: 'port', integer: true },
  { name: 'GATEWAY_WORKERS', key: 'workers', integer: true },
] as const;

/** Read, interpolate, validate and freeze the YAML at `file`. Never throws for bad input. */
export async function loadConfig(file: string, opts: LoadOptions): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ file, path: '', message: `cannot read: ${(err as Error).message}` }] };
  }
  const lineCounter = new LineCounter();
  // `merge`: YAML merge keys (`<<: *defaults`), which Compose and Helm users write.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) return { ok: false, problems: sortProblems(doc.errors.map((e) => syntaxProblem(file, e))) };

  const problems: ConfigProblem[] = [];
  const tainted: string[] = [];
  const add = (path: KeyPath, message: string, located = true): void => {
    const p = formatPath(path);
    const line = located ? lineOf(doc, lineCounter, path) : undefined;
    problems.push(line === undefined ? { file, path: p, message } : { file, path: p, message, line });
  };
  const echo = (path: KeyPath): boolean => {
    const p = formatPath(path);
    return tainted.some((t) => p === t || p.startsWith(t + '.') || p.startsWith(t + '['));
  };
  interpolateDocument(doc, opts.env, (path, message) => {
    tainted.push(formatPath(path));
    add(path, message);
  });

  let data: unknown;
  try {
    // yaml weighs each alias by the aliases inside what it names, so this stops a
    // "billion laughs" document, while 1 000 plain `<<: *defaults` uses load (nested
    // aliases cost the parser CPU well before memory: a higher limit would let a crafted
    // file hold the control thread for minutes).
    data = doc.toJS({ maxAliasCount: 1_000 });
  } catch (err) {
    // Only alias expansion can fail here (a "billion laughs" document).
    add([], (err as Error).message);
    return { ok: false, problems: sortProblems(problems) };
  }
  const overridden = applyEnvOverrides(data, opts.env, (name, message) => {
    problems.push({ file, path: `env ${name}`, message });
  });

  const schemaErrors = validateSchema(data);
  const invalidItems = new Set<string>();
  for (const { path, message } of schemaProblems(schemaErrors, data)) {
    invalidItems.add(itemOf(path));
    if (echo(path)) continue;
    const env = overridden.get(formatPath(path));
    // An overridden value's YAML line would point at the wrong culprit.
    if (env === undefined) add(path, message);
    else add(path, `${message} (set by ${env})`, false);
  }
  // The cross-section checks run even when the schema found problems, so one round lists
  // them all: a bad port does not hide an unknown service. They assume schema-valid input,
  // so what they say about an item the schema refused (a route with a bad field) is left
  // out as an echo, and if they trip over such an item, the schema's problems stand alone.
  const report: Report = (path, message) => echo(path) || invalidItems.has(itemOf(path)) || add(path, message);
  let authKeys: ResolvedKeys = new Map();
  let tls: TlsConfig | null = null;
  try {
    checkConfig(data as RawConfig, report);
    // Async (they read key files), so they run after the sync checks; see auth-checks.ts, tls-checks.ts.
    authKeys = await checkAuth(data as RawAuthDocument, { env: opts.env, configDir: dirname(file) }, report);
    tls = await checkTls(data as RawTlsDocument, { configDir: dirname(file) }, report);
  } catch (err) {
    if (schemaErrors.length === 0) throw err;
  }
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  const snapshot = withAuth(buildSnapshot(data as RawConfig, file, opts.version, tls), data as RawAuthDocument, authKeys);
  return { ok: true, snapshot: deepFreeze(snapshot) };
}

/** Apply GATEWAY_* overrides to `server`; returns which key paths each one set. */
function applyEnvOverrides(
  data: unknown,
  env: EnvVars,
  report: (name: string, message: string) => void,
): Map<string, string> {
  const applied = new Map<string, string>();
  for (const { name, key, integer } of ENV_OVERRIDES) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (integer && !/^[+-]?\d+$/.test(raw)) {
      report(name, `must be an integer, got ${JSON.stringify(raw)}`);
      continue;
    }
    // A document or `server` of the wrong type is left for the schema to report.
    if (!isRecord(data)) continue;
    if (!('server' in data)) data.server = {};
    if (!isRecord(data.server)) continue;
    data.server[key] = integer ? Number(raw) : raw;
    applied.set(`server.${key}`, name);
  }
  return applied;
}

/** The snapshot, with exactly the fields of the ipc interfaces (extra keys never leak). */
function buildSnapshot(raw: RawConfig, file: string, version: number, tls: TlsConfig | null): ConfigSnapshot {
  const { server: s } = raw;
  return {
    version,
    source: resolve(file),
    loadedAt: new Date().toISOString(),
    server: {
      host: s.host,
      port: s.port,
      workers: s.workers,
      reservedPrefix: s.reservedPrefix,
      trustedProxies: [...s.trustedProxies],
      adminAllow: [...s.adminAllow],
      viaName: s.viaName,
      limits: { ...s.limits },
      timeouts: { ...s.timeouts },
      paths: { ...s.paths },
      ...serverSecuritySnapshot(s as Parameters<typeof serverSecuritySnapshot>[0]),
      // Only when configured: a plain-HTTP snapshot stays exactly what it was before TLS.
      ...(tls === null ? {} : { tls }),
    },
    services: raw.services.map((svc) => ({
      name: svc.name,
      loadBalancer: svc.loadBalancer as LoadBalancerKind,
      instances: svc.instances.map((i) => ({ url: normalizeInstanceUrl(i.url).url!, weight: i.weight })),
      timeouts: { ...svc.timeouts },
      pool: { ...svc.pool },
      rateLimits: svc.rateLimits.map((l) => ({ ...l })),
      retry: structuredClone(svc.retry),
      outlierDetection: structuredClone(svc.outlierDetection),
      limits: { ...svc.limits },
      healthCheck: structuredClone(svc.healthCheck),
    })),
    routes: raw.routes.map((r) => ({
      id: r.id,
      paths: [...(r.paths ?? [r.path!])],
      methods: [...r.methods],
      hosts: [...r.hosts],
      priority: r.priority,
      service: r.service,
      stripPrefix: r.stripPrefix,
      rewrite: r.rewrite,
      preserveHost: r.preserveHost,
      retryable: r.retryable,
      websocket: r.websocket,
      // Only when on: snapshots without redirects stay what they were.
      ...((r.httpsRedirect ?? (tls !== null && tls.httpPort !== null)) ? { httpsRedirect: true } : {}),
      rateLimitHeaders: r.rateLimitHeaders,
      rateLimits: r.rateLimits.map((l) => ({ ...l })),
      ...routeSecuritySnapshot(r as Parameters<typeof routeSecuritySnapshot>[0]),
    })),
    telemetry: { tracing: { ...raw.telemetry.tracing } },
  };
}

/** 1-based line of the node at `path`, or of its nearest existing parent. */
function lineOf(doc: Document, counter: LineCounter, path: KeyPath): number | undefined {
  const lineAt = (n: unknown): number | undefined => {
    const start = (n as Node | null)?.range?.[0];
    return start === undefined ? undefined : counter.linePos(start).line;
  };
  let node: unknown = doc.contents;
  let line = lineAt(node);
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (pair === undefined) break;
      // The key's line: where the user looks for `servce:` or `port:`.
      line = lineAt(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      line = lineAt(node) ?? line;
    } else break;
  }
  return line;
}

/** A YAML syntax error as a problem: first line of the message, position in it. */
function syntaxProblem(file: string, e: YAMLError): ConfigProblem {
  const head = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const pos = e.linePos?.[0];
  return pos === undefined
    ? { file, path: '', message: head }
    : { file, path: '', message: `${head} (column ${pos.col})`, line: pos.line };
}

/** The item a key path is in: its first two steps (`routes[3]`, `server.port`). */
function itemOf(path: KeyPath): string {
  return formatPath(path.slice(0, 2));
}

/** Order for reading top to bottom: by line (file-wide problems first), then path. */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `['routes', 2, 'methods', 0]` → `routes[2].methods[0]`; odd keys are quoted. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (!/^[A-Za-z_$][\w$-]*$/.test(seg)) out += `[${JSON.stringify(seg)}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
