/**
 * What a rate limit counts by. `ip` is the client address: the TCP peer, or, when the
 * peer is a trusted proxy, the right-most X-Forwarded-For entry that is not itself a
 * trusted proxy (entries further left were written by the client and could be forged).
 * `header:<name>` is that header's value; requests without it share one bucket.
 */
import type { IncomingMessage } from 'node:http';
import type { TrustedProxies } from '../pipeline/trusted-proxies.js';

const unmap = (a: string) => (a.startsWith('::ffff:') ? a.slice(7) : a);

/** The client address as rate limits and logs should see it. */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  const peer = req.socket.remoteAddress ?? '';
  if (!trusted.has(peer)) return unmap(peer);
  const xff = req.headers['x-forwarded-for'];
  if (xff === undefined) return unmap(peer);
  const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trusted.has(hops[i])) return unmap(hops[i]!);
  }
  return unmap(hops[0] ?? peer);
}

/** The bucket key part for `key` (`ip` or `header:<name>`). */
export function limitKeyOf(key: string, req: IncomingMessage, trusted: TrustedProxies): string {
  if (key === 'ip') return `ip:${clientAddress(req, trusted)}`;
  const value = req.headers[key.slice(7).toLowerCase()];
  return `h:${Array.isArray(value) ? value.join(',') : (value ?? '')}`;
}
