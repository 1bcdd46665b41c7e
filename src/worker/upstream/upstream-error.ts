/**
 * How an undici/network failure of one try is named: the gateway error a client sees,
 * the retry condition it meets, and what it proves about the instance.
 */
import { GatewayError, UpstreamConnectError, UpstreamTimeoutError } from '../../common/index.js';
import type { RetryCondition } from '../../ipc/index.js';
import { NameKind, type HeaderNames } from './header-names.js';

const TIMEOUT_PHASES: Record<string, 'connect' | 'headers' | 'body'> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'body',
};

// The connection could not be made: the request never reached the instance (so, when the
// try never got a connection, it is retried for any method; see UpstreamCall#retryOn).
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);
// The connection broke after the request may have been sent.
const RESETS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);

// The instance answered, but not with HTTP the gateway can relay.
const INVALID_RESPONSES = new Set(['UNRELAYABLE_TRANSFER_CODING', 'INVALID_UPGRADE', 'UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UND_ERR_INFO', 'ERR_ASSERTION']);

/**
 * Map an undici/network error to the gateway error a client sees. Its message names the
 * kind of failure only: library codes and parser wording stay in the access log
 * (`failureDetail`), as peers keep them in their error logs.
 */
export function upstreamError(err: Error): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string }).code ?? '';
  const phase = TIMEOUT_PHASES[code];
  if (phase !== undefined) return new UpstreamTimeoutError(phase, err);
  let message = 'upstream request failed';
  if (CONNECT_FAILURES.has(code)) message = 'upstream connection failed';
  else if (RESETS.has(code)) message = 'upstream connection was reset';
  else if (code.startsWith('HPE_') || INVALID_RESPONSES.has(code) || err.name === 'HTTPParserError') message = 'invalid response from upstream';
  return new UpstreamConnectError(message, err);
}

/**
 * What the library said about a failure, for the log (never for the client): always
 * `CODE: message` when there is a code (`ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:8080`,
 * `UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error`), so log queries can match the code
 * first. Null when there is nothing more.
 */
export function failureDetail(err: GatewayError): string | null {
  const cause = err.cause;
  if (!(cause instanceof Error)) return null;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? `${code}: ${cause.message}` : cause.message;
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

/** The try error for a response whose transfer coding (other than `chunked`) the gateway cannot relay. */
export function unrelayableCoding(rawHeaders: readonly Buffer[], names: HeaderNames): Error {
  const codings: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (names.of(rawHeaders[i]!).kind === NameKind.TransferEncoding) codings.push(rawHeaders[i + 1]!.toString('latin1'));
  }
  return Object.assign(new Error(`upstream response uses a transfer coding the gateway cannot relay: ${JSON.stringify(codings.join(', '))}`), {
    code: 'UNRELAYABLE_TRANSFER_CODING',
  });
}
