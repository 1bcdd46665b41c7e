/**
 * What a rate limit counts by. `ip` is the client address: the TCP peer, or, when the
 * peer is a trusted proxy, the right-most X-Forwarded-For entry that is not itself a
 * trusted proxy (entries further left were written by the client and could be forged).
 * `header:<name>` is that header's value; requests without it share one bucket.
 * `api-key` is the authenticated API key's id (a JWT caller counts as its subject there),
 * `subject` the authenticated subject (per auth method).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { unmapIPv4 } from '../../common/index.js';
import type { TrustedProxies } from '../pipeline/trusted-proxies.js';
import type { Identity } from './auth/index.js';

// Keys travel to the primary and stay in memory: long values are hashed so a client
// cannot make each bucket key as large as a header may be.
const MAX_RAW_KEY = 64;
const bounded = (v: string) => (v.length <= MAX_RAW_KEY ? v : createHash('sha256').update(v).digest('base64url'));

/**
 * IPv6 clients own whole /64s (and rotate addresses inside them): they are keyed by
 * their /64, like one IPv4 address.
 */
function addressKey(addr: string): string {
  if (isIP(addr) !== 6) return addr;
  const [head = '', tail = ''] = addr.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = addr.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * An X-Forwarded-For entry as an address: as written, or without the port or brackets
 * some proxies add (`203.0.113.7:5555`, `[2001:db8::1]`, `[2001:db8::1]:443`); null
 * when it is not an address at all (`unknown`, junk).
 */
function hopAddress(entry: string): string | null {
  let hop = entry;
  if (hop.charCodeAt(0) === 0x5b /* [ */) {
    const close = hop.indexOf(']');
    if (close === -1) return null;
    hop = hop.slice(1, close);
  } else if (hop.indexOf(':') !== -1 && hop.indexOf(':') === hop.lastIndexOf(':')) {
    hop = hop.slice(0, hop.indexOf(':')); // IPv4 with a port (an IPv6 address has 2+ colons)
  }
  hop = unmapIPv4(hop);
  return isIP(hop) === 0 ? null : hop;
}

/**
 * The client address behind trusted proxies, or the peer itself; null when the nearest
 * entry a trusted proxy wrote is not an address, so who the client is is unknown.
 */
export function forwardedClient(req: IncomingMessage, trusted: TrustedProxies): string | null {
  const peer = req.socket.remoteAddress ?? '';
  if (!trusted.has(peer)) return unmapIPv4(peer);
  const xff = req.headers['x-forwarded-for'];
  if (xff === undefined) return unmapIPv4(peer);
  const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]!);
    if (hop === null) return null;
    if (!trusted.has(hop)) return hop;
  }
  return unmapIPv4(peer);
}

/**
 * The client address as rate limits and logs should see it. When the walk meets an entry
 * that is not an address, the peer (the last hop that can be trusted to have told the
 * truth) stands in: a key and a log field are needed either way.
 */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  return forwardedClient(req, trusted) ?? unmapIPv4(req.socket.remoteAddress ?? '');
}

/**
 * The bucket key part for `key` (`ip` or `header:<name>`). A request without the header
 * is keyed by its client address instead, so one header-less abuser cannot exhaust a
 * bucket every header-less client shares.
 */
export function limitKeyOf(key: string, req: IncomingMessage, trusted: TrustedProxies, identity: Identity | null = null): string {
  // Auth-based keys; without an identity (cannot happen on a checked config) the IP.
  if (key === 'api-key' && identity !== null) return identity.keyId === null ? `s:${bounded(`${identity.method}|${identity.subject}`)}` : `k:${identity.keyId}`;
  if (key === 'subject' && identity !== null) return `s:${bounded(`${identity.method}|${identity.subject}`)}`;
  if (key.startsWith('header:')) {
    const value = req.headers[key.slice(7).toLowerCase()];
    if (value !== undefined && value !== '') return `h:${bounded(Array.isArray(value) ? value.join(',') : value)}`;
  }
  return `ip:${addressKey(clientAddress(req, trusted))}`;
}
