/**
 * Which peers may speak for the client. X-Forwarded-* headers from anyone else are
 * discarded, because trusting them would let any client pick the IP address that rate
 * limits, logs and upstream allowlists see.
 */
import { BlockList, isIPv4 } from 'node:net';
import { unmapIPv4 } from '../../common/index.js';

/** Matches peer addresses against the configured trusted proxy CIDRs. */
export class TrustedProxies {
  #list: BlockList | null;
  #lastAddress = '';
  #lastTrusted = false;

  /** `cidrs` were validated by the control plane (`10.0.0.0/8`, `::1`, `fd00::/8` ...). */
  constructor(cidrs: readonly string[]) {
    if (cidrs.length === 0) {
      this.#list = null;
      return;
    }
    const list = new BlockList();
    for (const entry of cidrs) {
      const [addr, bits] = entry.split('/') as [string, string | undefined];
      const type = isIPv4(addr) ? 'ipv4' : 'ipv6';
      if (bits === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(bits), type);
    }
    this.#list = list;
  }

  /** True when `address` (as reported by the socket) is a trusted proxy. */
  has(address: string | undefined): boolean {
    if (this.#list === null || address === undefined) return false;
    // Behind a load balancer nearly every request comes from the same few peers, and a
    // BlockList check parses the address each time: remember the last answer.
    if (address === this.#lastAddress) return this.#lastTrusted;
    const plain = unmapIPv4(address);
    const trusted = this.#list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
    this.#lastAddress = address;
    this.#lastTrusted = trusted;
    return trusted;
  }
}
