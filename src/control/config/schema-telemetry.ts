/**
 * JSON Schema of the `telemetry` section (tracing). Kept apart from schema.ts so the
 * tracing settings, their defaults and their checks live in one place. Defaults are
 * safe for the embedded mode: tracing is off, and when it is turned on without more
 * settings, 1 % of new traces go to a Jaeger collector on localhost.
 */
import type { KeyPath, Report } from './loader.js';

// RFC 9110 field-name token.
const HEADER_NAME = { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$", description: 'an HTTP header name' };

/** Schema of `telemetry:` (referenced from the document schema). */
export const telemetrySchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    tracing: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        serviceName: {
          type: 'string',
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
          default: 'gateway',
          description: '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
        },
        sampleRatio: { type: 'number', minimum: 0, maximum: 1, default: 0.01 },
        exporter: { enum: ['jaeger'], default: 'jaeger' },
        endpoint: { type: 'string', minLength: 1, default: 'http://127.0.0.1:14268/api/traces' },
        responseHeader: { anyOf: [HEADER_NAME, { type: 'null' }], default: 'x-trace-id' },
        queueSize: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 2048 },
        // The Jaeger HTTP sender posts at most 100 spans per request; larger batches
        // would become several requests per export.
        batchSize: { type: 'integer', minimum: 1, maximum: 100, default: 100 },
        flushIntervalMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 1000 },
        exportTimeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 5000 },
      },
    },
  },
} as const;

/** The `telemetry` section after schema validation and defaults. */
export interface RawTelemetry {
  tracing: {
    enabled: boolean;
    serviceName: string;
    sampleRatio: number;
    exporter: 'jaeger';
    endpoint: string;
    responseHeader: string | null;
    queueSize: number;
    batchSize: number;
    flushIntervalMs: number;
    exportTimeoutMs: number;
  };
}

/**
 * Checks the schema cannot express. The endpoint is checked even when tracing is off,
 * so turning it on later never reveals an old mistake at reload time.
 */
// Names a trace-id response header must never take: framing, hop-by-hop, and headers whose
// meaning a client acts on (a trace id in Content-Length would break every response).
const RESERVED_RESPONSE_HEADERS = new Set([
  'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer', 'te',
  'content-type', 'content-encoding', 'content-range', 'location', 'set-cookie', 'www-authenticate',
  'retry-after', 'cache-control', 'vary', 'via', 'date', 'server', 'x-request-id',
]);

export function checkTelemetry(raw: RawTelemetry, report: Report): void {
  const header = raw.tracing.responseHeader;
  if (header !== null && (RESERVED_RESPONSE_HEADERS.has(header.toLowerCase()) || header.toLowerCase().startsWith('access-control-'))) {
    report(['telemetry', 'tracing', 'responseHeader'], `"${header}" has a meaning of its own in HTTP responses; use a name such as x-trace-id`);
  }
  const at: KeyPath = ['telemetry', 'tracing', 'endpoint'];
  let url: URL;
  try {
    url = new URL(raw.tracing.endpoint);
  } catch {
    report(at, `must be an http(s) URL such as http://127.0.0.1:14268/api/traces, got ${JSON.stringify(raw.tracing.endpoint)}`);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') report(at, `must use http or https, got "${url.protocol.slice(0, -1)}"`);
  else if (url.username !== '' || url.password !== '') report(at, 'must not contain credentials');
  else if (url.search !== '' || url.hash !== '') report(at, 'must not have a query or fragment');
}
