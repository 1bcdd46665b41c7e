/** Small address helpers shared by the planes. */
import { isIPv4 } from 'node:net';

/**
 * Dual-stack sockets report IPv4 peers as `::ffff:a.b.c.d`; this returns `a.b.c.d` for
 * those and any other address unchanged, so logs, headers, trust checks and rate-limit
 * keys all see one form of the same client.
 */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
