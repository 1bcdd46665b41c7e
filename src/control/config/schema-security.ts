/**
 * Schema pieces of request hardening, CORS and security response headers, referenced
 * from schema.ts. Checks a schema cannot express (origin patterns, `*` with
 * credentials, route limits above the server's) live in security-checks.ts.
 */
import { DEFAULT_METHODS } from '../../ipc/index.js';

const TOKEN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";
const HEADER_RULE = 'a header name (letters, digits and !#$%&\'*+.^_`|~-)';
const headerName = { type: 'string', pattern: TOKEN, description: HEADER_RULE } as const;
const method = { type: 'string', pattern: '^[A-Z][A-Z0-9_-]{0,31}$', description: 'an upper-case method token such as GET' } as const;
// Header values end up on the wire verbatim: no control characters (CR/LF would split the header).
const headerValue = (description: string) => ({ type: ['string', 'null'], minLength: 1, pattern: '^[\\x20-\\x7e]+$', description }) as const;

const REFERRER_POLICIES = [
  'no-referrer',
  'no-referrer-when-downgrade',
  'origin',
  'origin-when-cross-origin',
  'same-origin',
  'strict-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
];

// `false` or a mapping; `true` is refused by security-checks.ts (an anyOf here would
// turn every mistake into "must match a schema in anyOf").
const hsts = {
  type: ['object', 'boolean'],
  additionalProperties: false,
  properties: {
    maxAgeSeconds: { type: 'integer', minimum: 0, maximum: 63_072_000, default: 31_536_000 },
    includeSubDomains: { type: 'boolean', default: false },
    preload: { type: 'boolean', default: false },
  },
} as const;

// Without defaults: a route lists only what it overrides.
const headerProperties = {
  hsts,
  contentTypeOptions: { type: 'boolean' },
  frameOptions: { enum: ['DENY', 'SAMEORIGIN', false] },
  contentSecurityPolicy: headerValue('printable ASCII, e.g. "frame-ancestors \'none\'"'),
  referrerPolicy: { enum: [null, ...REFERRER_POLICIES] },
  hideServerHeaders: { type: 'boolean' },
  removeResponseHeaders: { type: 'array', uniqueItems: true, items: headerName },
} as const;

/** `server.securityHeaders`: the defaults every route starts from. */
export const serverSecurityHeadersSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    ...headerProperties,
    hsts: { ...hsts, default: false },
    contentTypeOptions: { type: 'boolean', default: true },
    frameOptions: { enum: ['DENY', 'SAMEORIGIN', false], default: 'DENY' },
    contentSecurityPolicy: { ...headerProperties.contentSecurityPolicy, default: null },
    referrerPolicy: { enum: [null, ...REFERRER_POLICIES], default: null },
    hideServerHeaders: { type: 'boolean', default: true },
    removeResponseHeaders: { ...headerProperties.removeResponseHeaders, default: [] },
  },
} as const;

/**
 * `ipRestriction` of the server or a route: addresses or CIDRs (checked in
 * semantic-checks.ts). `deny` wins over `allow`; an empty `allow` lets every address in.
 */
export const ipRestrictionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allow: { type: 'array', uniqueItems: true, items: { type: 'string' }, default: [] },
    deny: { type: 'array', uniqueItems: true, items: { type: 'string' }, default: [] },
  },
} as const;

/** `server.methods`: the method allowlist (405 for anything else). */
export const serverMethodsSchema = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: method,
  default: [...DEFAULT_METHODS],
} as const;

/** `server.limits.maxConnectionsPerIp`: per worker process; 0 = unlimited. */
export const maxConnectionsPerIpSchema = { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 } as const;

/** The `limits`, `cors` and `securityHeaders` keys of a route. */
export const routeSecurityProperties = {
  limits: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxBodyBytes: { type: 'integer', minimum: 1 },
      maxUrlBytes: { type: 'integer', minimum: 16 },
      maxHeaderBytes: { type: 'integer', minimum: 256 },
      maxHeaderCount: { type: 'integer', minimum: 1 },
    },
  },
  cors: {
    type: 'object',
    additionalProperties: false,
    required: ['origins'],
    properties: {
      origins: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
      methods: { type: 'array', minItems: 1, uniqueItems: true, items: method, default: ['GET', 'HEAD', 'POST'] },
      headers: { type: 'array', uniqueItems: true, items: { anyOf: [{ const: '*' }, headerName], description: 'a header name or "*"' }, default: [] },
      exposeHeaders: { type: 'array', uniqueItems: true, items: headerName, default: [] },
      credentials: { type: 'boolean', default: false },
      maxAgeSeconds: { type: 'integer', minimum: 0, maximum: 86_400, default: 600 },
    },
  },
  securityHeaders: { type: 'object', additionalProperties: false, properties: headerProperties },
  ipRestriction: ipRestrictionSchema,
} as const;
