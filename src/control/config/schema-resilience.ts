/**
 * Schema pieces for a service's resilience settings (retries, outlier detection,
 * resource limits, active health checks). Every block defaults to a safe setting, so a
 * service without them behaves as documented in the README ("Resilience").
 */

const ms = (def: number, min = 1, max = 3_600_000) => ({ type: 'integer', minimum: min, maximum: max, default: def });
const percent = (def: number) => ({ type: 'number', minimum: 0, maximum: 100, default: def });

/** `services[].retry`. */
export const retrySchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    attempts: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
    on: {
      type: 'array',
      uniqueItems: true,
      default: ['connect-failure'],
      items: {
        anyOf: [{ enum: ['connect-failure', 'reset', 'timeout'] }, { type: 'integer', minimum: 500, maximum: 599 }],
        description: '"connect-failure", "reset", "timeout" or a status code 500..599',
      },
    },
    perTryTimeoutMs: ms(0, 0),
    totalTimeoutMs: ms(0, 0),
    backoff: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { baseMs: ms(25, 1, 60_000), maxMs: ms(250, 1, 300_000) },
    },
    budget: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { percent: percent(20), minPerSecond: { type: 'integer', minimum: 0, maximum: 10_000, default: 3 } },
    },
  },
} as const;

/** `services[].outlierDetection`. */
export const outlierSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true },
    consecutive5xx: { type: 'integer', minimum: 0, maximum: 1000, default: 5 },
    consecutiveGatewayFailure: { type: 'integer', minimum: 0, maximum: 1000, default: 3 },
    failureRate: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        percent: percent(0),
        minRequests: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 20 },
        windowMs: ms(10_000, 1000, 600_000),
      },
    },
    baseEjectionMs: ms(30_000, 100),
    maxEjectionMs: ms(300_000, 100),
    maxEjectionPercent: percent(50),
    panicThresholdPercent: percent(50),
  },
} as const;

/** `services[].limits`. */
export const serviceLimitsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    maxRequests: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 1024 },
    maxPendingRequests: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 1024 },
    maxRetries: { type: 'integer', minimum: 0, maximum: 100_000, default: 3 },
    // Open WebSocket tunnels (two file descriptors each; the systemd unit allows 65 536).
    maxTunnels: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 10_000 },
  },
} as const;

/** `services[].healthCheck`. */
export const healthCheckSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: false },
    // Origin form only: `//host/x` or `/\\host/x` would resolve to another host.
    path: {
      type: 'string',
      pattern: '^/(?![/\\\\])[^\\s#\\\\]*$',
      default: '/health',
      description: 'an origin-form path such as "/health" (no "//" or "\\" at the start, no spaces or "#")',
    },
    intervalMs: ms(5_000, 100, 600_000),
    timeoutMs: ms(2_000, 50, 600_000),
    healthyThreshold: { type: 'integer', minimum: 1, maximum: 100, default: 2 },
    unhealthyThreshold: { type: 'integer', minimum: 1, maximum: 100, default: 3 },
    expectedStatuses: {
      type: 'array',
      minItems: 1,
      default: ['200-399'],
      items: {
        anyOf: [
          { type: 'integer', minimum: 100, maximum: 599 },
          { type: 'string', pattern: '^[1-5][0-9]{2}-[1-5][0-9]{2}$', description: 'a status range such as "200-399"' },
        ],
        description: 'a status code 100..599 or a status range such as "200-399"',
      },
    },
  },
} as const;
