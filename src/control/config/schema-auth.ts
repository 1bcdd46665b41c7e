/**
 * JSON Schema pieces of the `auth` section and of a route's `auth` block (referenced from
 * schema.ts). Defaults live here; cross-references (providers named by routes, key
 * sources matching the algorithms, key files) are checked in auth-checks.ts.
 */
import { JWT_ALGORITHMS } from '../../ipc/auth-config.js';

const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' };
const HEADER = { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", description: 'an HTTP header name' };
const CLAIM_PATH = { type: 'string', pattern: '^[A-Za-z0-9_:$@-]+(\\.[A-Za-z0-9_:$@-]+)*$', description: 'a dotted claim path such as realm_access.roles' };
// No `,`: roles travel upstream comma-separated, and an identity never holds one with a comma.
const TOKEN = { type: 'string', pattern: '^[\\x21-\\x2b\\x2d-\\x7e]{1,128}$', description: '1-128 visible ASCII characters, no spaces or commas' };
const ms = (def: number, min = 1) => ({ type: 'integer', minimum: min, maximum: 86_400_000, default: def });

const provider = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'issuer', 'algorithms'],
  properties: {
    name: NAME,
    issuer: { type: 'string', minLength: 1 },
    // No default: a provider says which audiences it accepts, or `any` (checked in auth-checks.ts).
    // A union type, not anyOf, so a mistake gets a precise message (array keywords apply to
    // the list form, `pattern` to the string form).
    audiences: {
      type: ['array', 'string'],
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      pattern: '^any$',
      description: '"any" (aud not checked) or a non-empty list of accepted "aud" values',
    },
    algorithms: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...JWT_ALGORITHMS] } },
    jwksUrl: { type: 'string', minLength: 1 },
    jwks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxAgeMs: ms(600_000, 1000),
        minRefetchIntervalMs: ms(30_000, 100),
        timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 3000 },
      },
    },
    keyFiles: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    secret: { type: 'string' },
    clockToleranceSec: { type: 'integer', minimum: 0, maximum: 600, default: 30 },
    maxTokenBytes: { type: 'integer', minimum: 256, maximum: 65_536, default: 8192 },
    requireExp: { type: 'boolean', default: true },
    claims: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        subject: { ...CLAIM_PATH, default: 'sub' },
        roles: { anyOf: [CLAIM_PATH, { type: 'null' }], default: null },
        scopes: { anyOf: [CLAIM_PATH, { type: 'null' }], default: 'scope' },
      },
    },
  },
} as const;

/** The top-level `auth` section. */
export const authSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    realm: { type: 'string', pattern: '^[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]{1,64}$', default: 'gateway', description: '1-64 printable ASCII characters without " or \\' },
    jwt: { type: 'array', items: provider, default: [] },
    apiKeys: {
      type: 'object',
      additionalProperties: false,
      properties: {
        header: { ...HEADER, default: 'x-api-key' },
        queryParam: { anyOf: [{ type: 'string', pattern: '^[A-Za-z0-9_.~-]{1,64}$', description: 'a query parameter name' }, { type: 'null' }], default: null },
        refreshMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 1000 },
      },
    },
    identityHeaders: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        subject: { ...HEADER, default: 'x-auth-subject' },
        roles: { ...HEADER, default: 'x-auth-roles' },
        scopes: { ...HEADER, default: 'x-auth-scopes' },
        keyId: { ...HEADER, default: 'x-auth-key-id' },
        method: { ...HEADER, default: 'x-auth-method' },
      },
    },
    tokenCacheSize: { type: 'integer', minimum: 0, maximum: 100_000, default: 1000 },
  },
} as const;

/** A route's `auth` block. */
export const routeAuthSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    methods: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', pattern: '^(api-key|jwt:[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$', description: '"api-key" or "jwt:<provider name>"' },
    },
    roles: { type: 'array', items: TOKEN, uniqueItems: true, default: [] },
    scopes: { type: 'array', items: TOKEN, uniqueItems: true, default: [] },
  },
} as const;

/** Rate-limit `key` values, auth-based ones included. */
export const RATE_LIMIT_KEY = {
  type: 'string',
  pattern: '^(ip|api-key|subject|header:[A-Za-z0-9!#$%&\'*+.^_`|~-]+)$',
  description: '"ip", "api-key", "subject" or "header:<name>"',
} as const;
