/**
 * Where a route with `httpsRedirect` sends a request that did not come over HTTPS: the
 * same host and request target on `https://`, the port being the gateway's TLS port
 * (omitted when 443; 443 when the gateway has no TLS of its own, behind a TLS load
 * balancer). The answer is a 308, which keeps the method and body (a 301 turns a POST
 * into a GET in browsers), as Traefik's permanent redirect does.
 */
import { hostnameOf } from './client-host.js';

// What a Host name can hold once the request guard has checked it (a bracketed IPv6
// literal, or letters, digits, `.`, `-` and `_`); anything else gets no redirect.
const HOSTNAME = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/;

/** The HTTPS URL for `host` + `target` (origin form), or null when Host cannot make one. */
export function httpsLocation(host: string | undefined, target: string, tlsPort: number): string | null {
  const name = hostnameOf(host);
  if (name === '' || !HOSTNAME.test(name)) return null;
  // llhttp has refused any target with bytes a URL cannot carry (controls, non-ASCII).
  return `https://${name}${tlsPort === 443 ? '' : `:${tlsPort}`}${target}`;
}
