/**
 * Route host patterns: an exact hostname (`api.example.com`) or a wildcard
 * (`*.example.com`: one or more labels before `.example.com`, never the bare suffix).
 * Compared lower-case; the request side must pass a lower-case hostname without port.
 */
import { RouteDefinitionError } from './route-errors.js';

/** A validated host pattern. `key` identifies it for conflicts (one tree per key). */
export type HostPattern =
  | { readonly kind: 'exact'; readonly key: string; readonly host: string }
  | { readonly kind: 'wildcard'; readonly key: string; readonly suffix: string };

// Labels of letters, digits, `-` and `_` (seen in internal names), or a bracketed IPv6.
const HOSTNAME = /^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/** Parse a host pattern; throws `RouteDefinitionError` for anything else. */
export function parseHostPattern(raw: string): HostPattern {
  const host = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (host.startsWith('*.')) {
    const rest = host.slice(2);
    if (!HOSTNAME.test(rest)) {
      throw new RouteDefinitionError(raw, '"*." must be followed by a hostname', 'host');
    }
    // The suffix keeps its leading dot: matching is "ends with `.rest`, something before".
    return { kind: 'wildcard', key: host, suffix: '.' + rest };
  }
  if (HOSTNAME.test(host) || IPV6.test(host)) return { kind: 'exact', key: host, host };
  const reason = host.includes('*')
    ? '"*" is only allowed as the whole first label ("*.example.com")'
    : 'not a hostname (no port, no scheme, no empty label)';
  throw new RouteDefinitionError(raw, reason, 'host');
}
