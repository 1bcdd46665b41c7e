/**
 * Typed errors with stable codes. The code is the contract: clients, logs and alerts key
 * on it, so codes never change meaning once released. Every code here is listed in the
 * README's "Error codes" table (a test pins that).
 */

/** Base class: a stable `code` and the HTTP status a client sees for it. */
export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** No route matches the request's host and path. */
export class RouteNotFoundError extends GatewayError {
  constructor() {
    super('GW_ROUTE_NOT_FOUND', 404, 'no route matches this request');
  }
}

/** A route matches the path but not the method; `allow` lists the methods that would. */
export class MethodNotAllowedError extends GatewayError {
  readonly allow: readonly string[];
  constructor(allow: readonly string[]) {
    super('GW_METHOD_NOT_ALLOWED', 405, 'method not allowed for this path');
    this.allow = allow;
  }
}

/** The request is malformed (bad target, bad encoding, bad framing). */
export class BadRequestError extends GatewayError {
  constructor(message: string) {
    super('GW_BAD_REQUEST', 400, message);
  }
}

/** The request body exceeds the configured limit. */
export class PayloadTooLargeError extends GatewayError {
  constructor(limit: number) {
    super('GW_PAYLOAD_TOO_LARGE', 413, `request body exceeds ${limit} bytes`);
  }
}

/** The request target exceeds the configured limit. */
export class UriTooLongError extends GatewayError {
  constructor(limit: number) {
    super('GW_URI_TOO_LONG', 414, `request target exceeds ${limit} bytes`);
  }
}

/** Too many or too large request headers. */
export class HeadersTooLargeError extends GatewayError {
  constructor(message: string) {
    super('GW_HEADERS_TOO_LARGE', 431, message);
  }
}

/** The upstream did not connect, answer headers, or send body in time. */
export class UpstreamTimeoutError extends GatewayError {
  constructor(phase: 'connect' | 'headers' | 'body', cause?: unknown) {
    super('GW_UPSTREAM_TIMEOUT', 504, `upstream ${phase} timeout`, { cause });
  }
}

/** The upstream connection failed (refused, reset, DNS, protocol error). */
export class UpstreamConnectError extends GatewayError {
  constructor(message: string, cause?: unknown) {
    super('GW_UPSTREAM_UNAVAILABLE', 502, message, { cause });
  }
}

/** The service has no instance to send the request to. */
export class NoHealthyUpstreamError extends GatewayError {
  constructor(service: string) {
    super('GW_NO_UPSTREAM', 503, `no upstream instance available for service ${service}`);
  }
}

/** A rate limit of the route refused the request. */
export class RateLimitedError extends GatewayError {
  constructor() {
    super('GW_RATE_LIMITED', 429, 'rate limit exceeded; retry after the time in Retry-After');
  }
}

/** /metrics could not be collected from the primary. */
export class MetricsUnavailableError extends GatewayError {
  constructor(reason: string) {
    super('GW_METRICS_UNAVAILABLE', 503, `metrics unavailable: ${reason}`);
  }
}

/** A service's resource limit (max requests or max pending requests per worker) is reached. */
export class UpstreamOverloadedError extends GatewayError {
  constructor(service: string, limit: 'maxRequests' | 'maxPendingRequests' | 'maxTunnels', value: number) {
    super('GW_UPSTREAM_OVERLOADED', 503, `service ${service} is at its ${limit} limit (${value}); retry later`);
  }
}

/** /metrics or /status was asked for by a peer outside `server.adminAllow`. */
export class AdminForbiddenError extends GatewayError {
  constructor(path: string) {
    super('GW_ADMIN_FORBIDDEN', 403, `${path} is only served to peers in server.adminAllow`);
  }
}

/** The client's address is refused by the route's or the server's `ipRestriction`. */
export class ClientAddressForbiddenError extends GatewayError {
  constructor() {
    super('GW_IP_FORBIDDEN', 403, 'this route is not served to your address');
  }
}

/** The node status document could not be collected through the primary. */
export class StatusUnavailableError extends GatewayError {
  constructor(reason: string) {
    super('GW_STATUS_UNAVAILABLE', 503, `status unavailable: ${reason}`);
  }
}

/** An unexpected failure inside the gateway; details go to the log, not the client. */
export class InternalError extends GatewayError {
  constructor(cause?: unknown) {
    super('GW_INTERNAL', 500, 'internal gateway error', { cause });
  }
}

/** Invalid configuration; carries every problem found, each with file, path and reason. */
export class ConfigError extends GatewayError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super('GW_CONFIG_INVALID', 500, problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

/** One configuration problem. `path` is a dotted/indexed key path, `line` 1-based if known. */
export interface ConfigProblem {
  readonly file: string;
  readonly path: string;
  readonly message: string;
  readonly line?: number;
}

/** Render a problem as `file:line: path: message`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** A problem with the command line or environment files (exit code 2). */
export class UsageError extends GatewayError {
  constructor(message: string) {
    super('GW_USAGE', 2, message);
  }
}

/** Every code the gateway can emit; the README documents each. */
export const ERROR_CODES: readonly string[] = Object.freeze([
  'GW_ROUTE_NOT_FOUND',
  'GW_METHOD_NOT_ALLOWED',
  'GW_BAD_REQUEST',
  'GW_PAYLOAD_TOO_LARGE',
  'GW_URI_TOO_LONG',
  'GW_HEADERS_TOO_LARGE',
  'GW_UPSTREAM_TIMEOUT',
  'GW_UPSTREAM_UNAVAILABLE',
  'GW_NO_UPSTREAM',
  'GW_INTERNAL',
  'GW_CONFIG_INVALID',
  'GW_USAGE',
  'GW_ROUTE_INVALID',
  'GW_ROUTE_CONFLICT',
  'GW_CLIENT_CLOSED',
  'GW_PIPELINE_DROPPED',
  'GW_TUNNEL_IDLE',
  'GW_REQUEST_TIMEOUT',
  'GW_METRICS_UNAVAILABLE',
  'GW_RATE_LIMITED',
  // resilience
  'GW_UPSTREAM_OVERLOADED',
  'GW_STATUS_UNAVAILABLE',
  'GW_ADMIN_FORBIDDEN',
  // request hardening, CORS and security headers
  'GW_CORS_REJECTED',
  'GW_IP_FORBIDDEN',
  'GW_EXPECTATION_FAILED',
  // authentication and authorization
  'GW_UNAUTHENTICATED',
  'GW_INVALID_CREDENTIALS',
  'GW_FORBIDDEN',
  'GW_AUTH_UNAVAILABLE',
  // tracing
  'GW_TRACE_NOT_FOUND',
  'GW_TRACE_BACKEND_UNAVAILABLE',
]);

// --- request hardening, CORS and security headers ---

/** A CORS preflight asked for an origin, method or header the route's `cors` does not allow. */
export class CorsRejectedError extends GatewayError {
  constructor(message: string) {
    super('GW_CORS_REJECTED', 403, message);
  }
}

/** `Expect` asked for something other than `100-continue` (RFC 9110 §10.1.1). */
export class ExpectationFailedError extends GatewayError {
  constructor() {
    super('GW_EXPECTATION_FAILED', 417, 'only "Expect: 100-continue" is supported');
  }
}

// --- authentication and authorization (issue 5) ---

/** Quote a value for an auth-param (RFC 9110 §11.2 quoted-string). */
const quoted = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;

/** Base of the auth errors: carries the `WWW-Authenticate` challenge (RFC 6750 §3). */
export class AuthError extends GatewayError {
  /** The `WWW-Authenticate` header value to send with this error (null: none). */
  readonly challenge: string | null;
  constructor(code: string, status: number, message: string, challenge: string | null) {
    super(code, status, message);
    this.challenge = challenge;
  }
}

/** The route needs credentials and the request carried none (RFC 6750: no error code). */
export class UnauthenticatedError extends AuthError {
  constructor(realm: string) {
    super('GW_UNAUTHENTICATED', 401, 'authentication required', `Bearer realm=${quoted(realm)}`);
  }
}

/** The credentials were present but invalid, expired, revoked or not accepted here. */
export class InvalidCredentialsError extends AuthError {
  constructor(realm: string, description: string) {
    super('GW_INVALID_CREDENTIALS', 401, description, `Bearer realm=${quoted(realm)}, error="invalid_token", error_description=${quoted(description)}`);
  }
}

/** Authenticated, but the identity lacks a required role or scope. */
export class ForbiddenError extends AuthError {
  constructor(realm: string, description: string, scopes: readonly string[]) {
    const scope = scopes.length === 0 ? '' : `, scope=${quoted(scopes.join(' '))}`;
    super('GW_FORBIDDEN', 403, description, `Bearer realm=${quoted(realm)}, error="insufficient_scope", error_description=${quoted(description)}${scope}`);
  }
}

/** The credential could not be judged (the JWKS endpoint is unreachable and no keys are cached). */
export class AuthUnavailableError extends AuthError {
  /** When the keys will be asked for again (the answer's Retry-After), or null. */
  readonly retryAfterSeconds: number | null;
  constructor(description: string, retryAfterSeconds: number | null = null) {
    // Not a challenge: the client's credentials may be fine, it should retry (RFC 6750 has no code for this).
    super('GW_AUTH_UNAVAILABLE', 503, description, null);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

// Tracing (issue 6): errors of the trace look-up commands (`gateway trace`, `gateway traces`).

/** The Jaeger query API does not know the trace (CLI exit code 1). */
export class TraceNotFoundError extends GatewayError {
  constructor(traceId: string, queryUrl: string) {
    super('GW_TRACE_NOT_FOUND', 404, `trace ${traceId} not found in Jaeger at ${queryUrl}`);
  }
}

/** The Jaeger query API is unreachable or gave an unusable answer (CLI exit code 1). */
export class TraceBackendError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GW_TRACE_BACKEND_UNAVAILABLE', 502, message, options);
  }
}
