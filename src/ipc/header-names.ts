/**
 * Request header names the gateway owns, shared by the data plane (which strips or
 * rewrites them) and the config checks (which refuse them where a config could name
 * them, e.g. as identity headers), so the two lists can never drift apart.
 */

/** Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded in either direction. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // The gateway answered `100 Continue` itself (when it forwards the body); undici refuses to send it on.
  'expect',
]);

/** Rewritten by the gateway on the way up, never copied from the client. */
export const FORWARDING_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'via',
  'x-request-id',
]);

/**
 * Other "client IP" headers upstreams are known to trust, and the client certificate an
 * Envoy-style proxy forwards: passed on from trusted proxies only, so a client cannot
 * claim an address or an identity through a header the gateway does not set.
 */
export const CLIENT_IP_HEADERS: ReadonlySet<string> = new Set(['x-real-ip', 'true-client-ip', 'cf-connecting-ip', 'x-client-ip', 'x-cluster-client-ip', 'x-forwarded-client-cert']);

/** A header name as CGI-style upstreams see it: lower case, `_` read as `-` (both spellings are one header there). */
export function cgiName(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}
