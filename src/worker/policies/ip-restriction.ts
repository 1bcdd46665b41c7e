/**
 * Client address lists (`ipRestriction`) of a route, with the server's applied first:
 * a client in any `deny` list is refused; where an `allow` list is not empty (the
 * server's, the route's, or both), the client must be in each one. So a route can narrow
 * what the server lets in and can never reopen what the server refuses.
 * The address is the one rate limits key on: the peer, or from a trusted proxy the
 * nearest untrusted `X-Forwarded-For` hop (rate-limit-keys.ts). When a trusted proxy's
 * entry is not an address, the client is unknown and refused: a list that cannot tell
 * who is calling fails closed.
 */
import type { IpRestrictionConfig } from '../../ipc/index.js';
import { TrustedProxies } from '../pipeline/trusted-proxies.js';

/** The compiled lists of one route (server-wide ones merged in). */
export class IpRestriction {
  readonly #deny: TrustedProxies | null;
  readonly #allow: readonly TrustedProxies[];

  private constructor(deny: readonly string[], allow: readonly (readonly string[])[]) {
    // TrustedProxies is the gateway's CIDR set (BlockList plus a last-answer cache).
    this.#deny = deny.length === 0 ? null : new TrustedProxies(deny);
    this.#allow = allow.filter((list) => list.length > 0).map((list) => new TrustedProxies(list));
  }

  /** The lists a route with `route`'s own (if any) and the server's (if any) enforces; null: none. */
  static of(server: IpRestrictionConfig | undefined, route: IpRestrictionConfig | undefined): IpRestriction | null {
    if (server === undefined && route === undefined) return null;
    const deny = [...(server?.deny ?? []), ...(route?.deny ?? [])];
    return new IpRestriction(deny, [server?.allow ?? [], route?.allow ?? []]);
  }

  /** Whether a client at `address` (IPv4-mapped IPv6 is read as IPv4; null or '': unknown) is served. */
  admits(address: string | null): boolean {
    if (address === null || address === '') return false;
    if (this.#deny !== null && this.#deny.has(address)) return false;
    for (const list of this.#allow) if (!list.has(address)) return false;
    return true;
  }
}
