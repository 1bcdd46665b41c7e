/**
 * Auth test helpers: key pairs and tokens (jose), hand-built auth snapshots, an in-memory
 * audit sink, and an in-process gateway with an AuthRuntime wired in as a worker does.
 */
import type { webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import pino from 'pino';
import { Agent } from 'undici';
import type { AuthConfig, ConfigSnapshot, JwtProviderConfig } from '../../src/ipc/index.js';
import { AuditLog, createRegistry, type AuditSink } from '../../src/telemetry/index.js';
import { AuthRuntime } from '../../src/worker/policies/index.js';
import { startInProcess, type InProcessGateway } from './in-process-gateway.js';

/** A signing key pair with its public JWK (kid set). */
export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: webcrypto.CryptoKey;
  readonly publicKey: webcrypto.CryptoKey;
  readonly jwk: Record<string, unknown>;
}

/** Generate a key pair for `alg` with key id `kid`. */
export async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } as Record<string, unknown>;
  return { kid, alg, privateKey, publicKey, jwk };
}

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'api';

/** Sign `claims` (defaults: iss, aud, sub, exp in 5 min) with `key`; `header` overrides. */
export async function token(key: SigningKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** A provider config with test defaults. */
export function provider(over: Partial<JwtProviderConfig> = {}): JwtProviderConfig {
  return {
    name: 'idp',
    issuer: ISSUER,
    audiences: [AUDIENCE],
    algorithms: ['RS256'],
    jwks: null,
    keys: [],
    secret: null,
    clockToleranceSec: 5,
    maxTokenBytes: 4096,
    requireExp: true,
    claims: { subject: 'sub', roles: 'realm_access.roles', scopes: 'scope' },
    ...over,
  };
}

/** An auth section with test defaults. */
export function authConfig(over: Partial<AuthConfig> = {}): AuthConfig {
  return {
    realm: 'gateway',
    jwt: [],
    apiKeys: null,
    identityHeaders: { subject: 'x-auth-subject', roles: 'x-auth-roles', scopes: 'x-auth-scopes', keyId: 'x-auth-key-id', method: 'x-auth-method' },
    tokenCacheSize: 100,
    ...over,
  };
}

/** Audit sink keeping parsed records in memory. */
export class MemoryAuditSink implements AuditSink {
  readonly records: Record<string, unknown>[] = [];
  async write(lines: readonly string[]): Promise<void> {
    for (const l of lines) this.records.push(JSON.parse(l) as Record<string, unknown>);
  }
  async close(): Promise<void> {}
}

/** An in-process gateway serving `snap` with auth, plus its runtime and audit records. */
export interface AuthGateway extends InProcessGateway {
  readonly runtime: AuthRuntime;
  readonly audit: AuditLog;
  readonly sink: MemoryAuditSink;
  readonly metrics: () => Promise<string>;
}

/** Start `snap` in-process with an AuthRuntime (API keys from `apiKeysFile`, `pepper`). */
export async function startAuthGateway(snap: ConfigSnapshot, opts: { apiKeysFile?: string; pepper?: string } = {}): Promise<AuthGateway> {
  const logger = pino({ level: 'silent' });
  const registry = createRegistry();
  const sink = new MemoryAuditSink();
  const audit = new AuditLog({ sink, logger, registry });
  const dispatcher = new Agent();
  const runtime = new AuthRuntime({ logger, registry, audit, apiKeysFile: opts.apiKeysFile ?? '/nonexistent/api-keys.json', pepper: opts.pepper ?? null, dispatcher });
  const policy = await runtime.prepare(snap);
  const gw = await startInProcess(snap, { auth: policy });
  return {
    ...gw,
    runtime,
    audit,
    sink,
    metrics: () => registry.metrics(),
    async close() {
      await gw.close();
      await runtime.close();
      await dispatcher.close();
    },
  };
}

/** Sign any header and payload with an RS256 key, bypassing jose's own checks (attack tokens). */
export async function signRawRs256(key: SigningKey, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  const sig = await globalThis.crypto.subtle.sign('RSASSA-PKCS1-v1_5', key.privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}
