/**
 * How an undici/network failure of one try is named: the gateway error a client sees,
 * the retry condition it meets, and what it proves about the instance.
 */
import { GatewayError, UpstreamConnectError, UpstreamTimeoutError } from '../../common/index.js';
import type { RetryCondition } from '../../ipc/index.js';

const TIMEOUT_PHASES: Record<string, 'connect' | 'headers' | 'body'> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'body',
};

// The request never reached the instance (retried only when the request is retryable, like any other failure).
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);
// The connection broke after the request may have been sent.
const RESETS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);

/** Map an undici/network error to the gateway error a client sees. */
export function upstreamError(err: Error): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string }).code ?? '';
  const phase = TIMEOUT_PHASES[code];
  if (phase !== undefined) return new UpstreamTimeoutError(phase, err);
  return new UpstreamConnectError(`upstream request failed (${code || err.message})`, err);
}

/** The retry condition a try error meets, or null when it is not an upstream failure. */
export function retryConditionOf(err: Error): Exclude<RetryCondition, number> | null {
  if (err instanceof GatewayError) return null; // e.g. 413 from the body limit: the client's fault
  const code = (err as { code?: string }).code ?? '';
  if (CONNECT_FAILURES.has(code)) return 'connect-failure';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (RESETS.has(code)) return 'reset';
  return null;
}
