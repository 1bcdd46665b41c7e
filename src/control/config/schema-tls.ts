/**
 * Schema piece of `server.tls` (TLS termination), referenced from schema.ts. What a schema
 * cannot check (the files, the key matching its certificate, names served twice, the
 * cipher list) is in tls-checks.ts.
 */
import { CLIENT_AUTH_MODES, TLS_VERSIONS } from '../../ipc/index.js';

const file = { type: 'string', minLength: 1, description: 'a file path (relative to the config file)' } as const;

/** `server.tls`: absent = plain HTTP. */
export const serverTlsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['certificates'],
  properties: {
    certificates: {
      type: 'array',
      minItems: 1,
      maxItems: 1_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['certFile', 'keyFile'],
        properties: { certFile: file, keyFile: file },
      },
    },
    minVersion: { enum: [...TLS_VERSIONS], default: 'TLSv1.2' },
    ciphers: { type: ['string', 'null'], minLength: 1, maxLength: 4096 },
    handshakeTimeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 10_000 },
    // A plain-HTTP listener beside the TLS one (for redirects to HTTPS, ACME challenges).
    httpPort: { type: ['integer', 'null'], minimum: 1, maximum: 65535 },
    // Mutual TLS: client certificates verified against caFile.
    clientAuth: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['caFile'],
      properties: {
        caFile: file,
        mode: { enum: [...CLIENT_AUTH_MODES], default: 'require' },
      },
    },
  },
} as const;
