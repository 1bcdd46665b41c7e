/**
 * API key format and hashing.
 *
 * A key is `gwk_<id>_<secret>`: `id` is 12 lower-case hex characters (48 random bits) and
 * is stored in clear as the lookup handle; `secret` is 32 random bytes, base64url. Only
 * HMAC-SHA256(pepper, whole key) is stored, so a leaked key file is useless without the
 * pepper (which lives in the environment, never next to the file), and a plain SHA-256
 * rainbow table cannot be built for it. Comparison of the computed and stored hashes is
 * constant-time (`timingSafeEqual`); a lookup miss still computes an HMAC so the two
 * outcomes cost the same.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix every key starts with; lets `Authorization: Bearer` tell keys from JWTs. */
export const API_KEY_PREFIX = 'gwk_';
const FORMAT = /^gwk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** Environment variable holding the pepper. */
export const PEPPER_ENV = 'GATEWAY_API_KEY_PEPPER';
/** Shortest pepper accepted (characters). */
export const MIN_PEPPER_LENGTH = 32;

/** A freshly generated key: the plaintext (shown once) and its id. */
export interface NewApiKey {
  readonly id: string;
  readonly key: string;
}

/** Generate a key. */
export function generateApiKey(): NewApiKey {
  const id = randomBytes(6).toString('hex');
  return { id, key: `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}` };
}

/** The id of a well-formed key, or null (malformed keys are never looked up). */
export function apiKeyId(key: string): string | null {
  const m = FORMAT.exec(key);
  return m === null ? null : m[1]!;
}

/** HMAC-SHA256 of `key` under `pepper`, base64url. */
export function hashApiKey(key: string, pepper: string): string {
  return createHmac('sha256', pepper).update(key).digest('base64url');
}

/** Constant-time equality of two base64url hashes (unequal lengths are simply false). */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64url');
  const y = Buffer.from(b, 'base64url');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Why a pepper is unusable, or null when it is fine. */
export function pepperProblem(pepper: string | undefined): string | null {
  if (pepper === undefined || pepper === '') {
    return `${PEPPER_ENV} is not set: API keys are hashed with this server-side secret (at least ${MIN_PEPPER_LENGTH} characters, e.g. from "openssl rand -base64 48"); set it in the service environment, never in a committed file`;
  }
  if (pepper.length < MIN_PEPPER_LENGTH) return `${PEPPER_ENV} must be at least ${MIN_PEPPER_LENGTH} characters (got ${pepper.length})`;
  return null;
}
