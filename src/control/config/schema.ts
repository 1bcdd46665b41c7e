/**
 * JSON Schema of the gateway YAML. It is the single source of defaults: Ajv fills them in
 * (`useDefaults`) while it reports every violation at once (`allErrors`). Unknown keys are
 * errors so a typo never silently falls back to a default. A `description` next to a
 * `pattern` is what the user reads when the pattern fails (see `schemaProblems`).
 */
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import type { KeyPath } from './loader.js';
import { healthCheckSchema, outlierSchema, retrySchema, serviceLimitsSchema } from './schema-resilience.js';
import { ipRestrictionSchema, maxConnectionsPerIpSchema, routeSecurityProperties, serverMethodsSchema, serverSecurityHeadersSchema } from './schema-security.js';
import { authSchema, RATE_LIMIT_KEY, routeAuthSchema } from './schema-auth.js';
import { telemetrySchema } from './schema-telemetry.js';
import { serverTlsSchema } from './schema-tls.js';

const NAME_RULE = '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

const ms = (def: number, max = 3_600_000) => ({ type: 'integer', minimum: 1, maximum: max, default: def });

const instance = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1 },
    weight: { type: 'integer', minimum: 1, maximum: 1000, default: 1 },
  },
} as const;

/** A list of node-wide rate limits (routes and services). */
const rateLimitsSchema = {
  type: 'array',
  maxItems: 4,
  default: [],
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['requests', 'per', 'key'],
    properties: {
      requests: { type: 'integer', minimum: 1 },
      per: { anyOf: [{ enum: ['s', 'm', 'h', 'd'] }, { type: 'number', exclusiveMinimum: 0 }] },
      burst: { type: 'integer', minimum: 1 },
      key: RATE_LIMIT_KEY,
    },
  },
} as const;

const service = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'instances'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: NAME_RULE },
    loadBalancer: {
      enum: ['round-robin', 'weighted-round-robin', 'least-connections', 'random', 'p2c'],
      default: 'round-robin',
    },
    instances: { type: 'array', minItems: 1, items: instance },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        connectMs: ms(5_000),
        headersMs: ms(30_000),
        bodyMs: ms(60_000),
        // A WebSocket tunnel with no byte either way for this long is closed (Envoy's
        // stream idle default); up to a day, for feeds that are quiet by design.
        tunnelIdleMs: ms(300_000, 86_400_000),
      },
    },
    pool: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        connections: { type: 'integer', minimum: 1, maximum: 10_000, default: 128 },
        pipelining: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
        keepAliveTimeoutMs: ms(4_000),
      },
    },
    // Limits shared by every route of the service (one bucket set per service).
    rateLimits: rateLimitsSchema,
    retry: retrySchema,
    outlierDetection: outlierSchema,
    limits: serviceLimitsSchema,
    healthCheck: healthCheckSchema,
  },
} as const;

const method = { type: 'string', pattern: '^[A-Z][A-Z0-9_-]{0,31}$', description: 'an upper-case method token such as GET' };

const route = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'service'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: NAME_RULE },
    path: { type: 'string', minLength: 1 },
    paths: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    methods: { type: 'array', items: method, uniqueItems: true, default: [] },
    hosts: {
      type: 'array',
      uniqueItems: true,
      default: [],
      items: {
        type: 'string',
        pattern: '^(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$',
        description: 'a hostname or "*.domain" (no scheme, no port)',
      },
    },
    priority: { type: 'integer', minimum: -1000, maximum: 1000, default: 0 },
    service: { type: 'string' },
    stripPrefix: { type: 'boolean', default: false },
    rewrite: { type: ['string', 'null'], default: null },
    preserveHost: { type: 'boolean', default: false },
    // Retry non-idempotent methods too (the upstream must tolerate duplicates).
    retryable: { type: 'boolean', default: false },
    // Proxy WebSocket upgrades (GET with `Upgrade: websocket`) as tunnels to the service.
    websocket: { type: 'boolean', default: false },
    // 308 to HTTPS for requests not known to be HTTPS; no default: the snapshot's is true
    // with a plain listener beside TLS (server.tls.httpPort), false otherwise.
    httpsRedirect: { type: ['boolean', 'null'] },
    // How a limited route reports its limits: IETF draft fields, X-RateLimit-*, both or none.
    rateLimitHeaders: { enum: ['both', 'ietf', 'legacy', 'none'], default: 'both' },
    rateLimits: rateLimitsSchema,
    ...routeSecurityProperties,
    auth: routeAuthSchema,
  },
} as const;

/** Schema of the whole YAML document. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  // `x-...` keys hold anchors for the rest of the file (`x-defaults: &defaults {...}`,
  // then `<<: *defaults`), as in Docker Compose; the gateway reads nothing else from them.
  patternProperties: { '^x-': {} },
  required: ['services', 'routes'],
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', minLength: 1, default: '0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
        workers: { type: 'integer', minimum: 0, maximum: 256, default: 0 },
        reservedPrefix: {
          type: 'string',
          pattern: '^/[A-Za-z0-9_.~-]+$',
          default: '/__gateway',
          description: 'one path segment such as "/__gateway"',
        },
        trustedProxies: { type: 'array', items: { type: 'string' }, default: [] },
        // Peers allowed to read /metrics and /status (health and ready stay open for probes).
        adminAllow: { type: 'array', items: { type: 'string' }, default: ['127.0.0.1/32', '::1/128'] },
        viaName: {
          type: 'string',
          pattern: '^[A-Za-z0-9_.-]{1,64}$',
          default: 'gateway',
          description: '1-64 letters, digits, ".", "_" or "-"',
        },
        limits: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            // 0 means unlimited: no body size check at all (for upload-only gateways).
            maxBodyBytes: { type: 'integer', minimum: 0, default: 10 * 1024 * 1024 },
            maxUrlBytes: { type: 'integer', minimum: 64, maximum: 1_048_576, default: 8192 },
            maxHeaderBytes: { type: 'integer', minimum: 1024, maximum: 1_048_576, default: 16_384 },
            maxHeaderCount: { type: 'integer', minimum: 8, maximum: 1000, default: 100 },
            maxConnectionsPerIp: maxConnectionsPerIpSchema,
          },
        },
        timeouts: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            headersMs: ms(10_000),
            requestMs: ms(300_000),
            keepAliveMs: ms(5_000),
            drainMs: ms(30_000),
          },
        },
        methods: serverMethodsSchema,
        securityHeaders: serverSecurityHeadersSchema,
        ipRestriction: ipRestrictionSchema,
        paths: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            mergeSlashes: { type: 'boolean', default: true },
            encodedSlash: { enum: ['reject', 'keep'], default: 'reject' },
            semicolons: { enum: ['keep', 'reject'], default: 'keep' },
          },
        },
        tls: serverTlsSchema,
      },
    },
    services: { type: 'array', items: service },
    routes: { type: 'array', items: route },
    auth: authSchema,
    telemetry: telemetrySchema,
  },
} as const;

/** A schema violation at a key path, worded for the person editing the YAML. */
export interface SchemaProblem {
  readonly path: KeyPath;
  readonly message: string;
}

// Compiled on first use and kept: compiling costs milliseconds, every reload reuses it.
let validator: ValidateFunction | undefined;

/** Validate `data` in place (filling defaults); returns Ajv's errors, empty when valid. */
export function validateSchema(data: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true, allowUnionTypes: true }).compile(
    configSchema as unknown as SchemaObject,
  );
  return validator(data) ? [] : [...(validator.errors ?? [])];
}

/**
 * Ajv errors as problems, one per distinct (path, message). A wrong type silences other
 * complaints at the same path: "must be an integer" says all there is to say about it.
 */
export function schemaProblems(errors: readonly ErrorObject[], data: unknown): SchemaProblem[] {
  // A value that fits no branch of an `anyOf` gets one problem saying what would fit, not
  // one per branch plus "must match a schema in anyOf".
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const branches = new Map<ErrorObject, ErrorObject[]>(anyOfs.map((a) => [a, []]));
  const rest: ErrorObject[] = [];
  for (const e of errors) {
    const owner = anyOfs.find((a) => a !== e && e.instancePath === a.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`));
    if (owner === undefined) rest.push(e);
    else branches.get(owner)!.push(e);
  }
  const typed = new Set(rest.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const out = new Map<string, SchemaProblem>();
  for (const e of rest) {
    if (e.keyword !== 'type' && e.keyword !== 'anyOf' && typed.has(e.instancePath)) continue;
    const path = pointerToPath(e.instancePath, data);
    const problem = e.keyword === 'anyOf' ? describeAnyOf(e, branches.get(e)!, path) : describe(e, path);
    out.set(`${problem.path.join('\u0000')}\u0001${problem.message}`, problem);
  }
  return [...out.values()];
}

/** What an `anyOf` accepts: its own description, or what each branch asked for. */
function describeAnyOf(e: ErrorObject, branches: readonly ErrorObject[], path: KeyPath): SchemaProblem {
  const got = `, got ${show(e.data)}`;
  const own = e.parentSchema?.description as string | undefined;
  if (own !== undefined) return { path, message: `must be ${own}${got}` };
  const asked = [...new Set(branches.map((b) => describe(b, path).message.replace(/, got [^]*$/, '').replace(/^must be /, '')))];
  return { path, message: `must be ${asked.join(', or ')}${got}` };
}

function describe(e: ErrorObject, path: KeyPath): SchemaProblem {
  const p = e.params as Record<string, unknown>;
  const got = `, got ${show(e.data)}`;
  switch (e.keyword) {
    case 'required':
      return { path: [...path, String(p.missingProperty)], message: 'is required' };
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const guess = closest(key, Object.keys((e.parentSchema?.properties as object | undefined) ?? {}));
      return { path: [...path, key], message: `unknown key "${key}"${guess ? `; did you mean "${guess}"?` : ''}` };
    }
    case 'type': {
      const types = ([] as string[]).concat(p.type as string | string[]);
      return { path, message: `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}${got}` };
    }
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')}${got}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `must be ${String(p.comparison)} ${String(p.limit)}${got}` };
    case 'minItems':
    case 'minLength':
      return { path, message: p.limit === 1 ? 'must not be empty' : `${e.message ?? 'is too short'}` };
    case 'pattern': {
      const rule = e.parentSchema?.description as string | undefined;
      return { path, message: `must be ${rule ?? `text matching /${String(p.pattern)}/`}${got}` };
    }
    case 'uniqueItems': {
      // Ajv reports the first duplicate pair: `i` first seen, `j` the later repeat.
      const [i, j] = [Number(p.i), Number(p.j)];
      return { path: [...path, j], message: `${show((e.data as unknown[])[j])} repeats item ${i}` };
    }
    default:
      return { path, message: e.message ?? `fails "${e.keyword}"` };
  }
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

/** JSON pointer → key path; a segment is an index exactly when it walks into an array. */
function pointerToPath(pointer: string, data: unknown): KeyPath {
  const path: (string | number)[] = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(node) ? Number(seg) : NaN;
    path.push(Number.isInteger(index) ? index : seg);
    node = (node as Record<string | number, unknown> | undefined)?.[Number.isInteger(index) ? index : seg];
  }
  return path;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  return String(v);
}

/** The known key nearest to a typo, if it is near enough to be the one meant. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
