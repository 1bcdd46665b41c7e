/**
 * JSON Schema of the gateway YAML. It is the single source of defaults: Ajv fills them in
 * (`useDefaults`) while it reports every violation at once (`allErrors`). Unknown keys are
 * errors so a typo never silently falls back to a default.
 */

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

const service = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'instances'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
    loadBalancer: {
      enum: ['round-robin', 'weighted-round-robin', 'least-connections', 'random', 'p2c'],
      default: 'round-robin',
    },
    instances: { type: 'array', minItems: 1, items: instance },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { connectMs: ms(5_000), headersMs: ms(30_000), bodyMs: ms(60_000) },
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
  },
} as const;

const method = { type: 'string', pattern: '^[A-Z][A-Z0-9_-]{0,31}$' };

const route = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'service'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
    path: { type: 'string', minLength: 1 },
    paths: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    methods: { type: 'array', items: method, uniqueItems: true, default: [] },
    hosts: {
      type: 'array',
      uniqueItems: true,
      default: [],
      items: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$' },
    },
    priority: { type: 'integer', minimum: -1000, maximum: 1000, default: 0 },
    service: { type: 'string' },
    stripPrefix: { type: 'boolean', default: false },
    rewrite: { type: ['string', 'null'], default: null },
    preserveHost: { type: 'boolean', default: false },
  },
} as const;

/** Schema of the whole YAML document. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
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
        reservedPrefix: { type: 'string', pattern: '^/[A-Za-z0-9_.~-]+$', default: '/__gateway' },
        trustedProxies: { type: 'array', items: { type: 'string' }, default: [] },
        viaName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', default: 'gateway' },
        limits: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            maxBodyBytes: { type: 'integer', minimum: 0, default: 10 * 1024 * 1024 },
            maxUrlBytes: { type: 'integer', minimum: 64, maximum: 1_048_576, default: 8192 },
            maxHeaderBytes: { type: 'integer', minimum: 1024, maximum: 1_048_576, default: 16_384 },
            maxHeaderCount: { type: 'integer', minimum: 8, maximum: 1000, default: 100 },
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
        paths: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            mergeSlashes: { type: 'boolean', default: true },
            encodedSlash: { enum: ['reject', 'keep'], default: 'reject' },
          },
        },
      },
    },
    services: { type: 'array', items: service },
    routes: { type: 'array', items: route },
  },
} as const;
