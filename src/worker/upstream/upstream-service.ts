/**
 * A service as one worker sees it: its endpoints (instance + pool + base path), its load
 * balancer and its timeouts. Rebuilt from each snapshot; pools come from the PoolSet.
 */
import type { Pool } from 'undici';
import type { ServiceConfig, ServiceTimeouts } from '../../ipc/index.js';
import { createBalancer, type Balancer, type Endpoint } from './balancers/index.js';
import type { PoolKey } from './pool-set.js';

/** One upstream instance with what the proxy needs to reach it. */
export interface UpstreamEndpoint extends Endpoint {
  readonly pool: Pool;
  /** Base path of the instance URL without trailing slash ('' for none). */
  readonly basePath: string;
  /** `host[:port]` of the instance, for logs. */
  readonly authority: string;
}

/** A routed-to service in one worker. */
export class UpstreamService {
  readonly name: string;
  readonly timeouts: ServiceTimeouts;
  readonly endpoints: readonly UpstreamEndpoint[];
  readonly #balancer: Balancer;

  constructor(config: ServiceConfig, poolFor: (k: PoolKey) => Pool) {
    this.name = config.name;
    this.timeouts = config.timeouts;
    this.endpoints = config.instances.map((inst, i) => {
      const url = new URL(inst.url);
      const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
      return {
        id: `${config.name}#${i}`,
        weight: inst.weight,
        active: 0,
        pool: poolFor({ origin: url.origin, pool: config.pool, connectMs: config.timeouts.connectMs }),
        basePath,
        authority: url.host,
      };
    });
    this.#balancer = createBalancer(config.loadBalancer, this.endpoints);
  }

  /** Pool keys this service needs (so the PoolSet can build them first). */
  static poolKeys(config: ServiceConfig): PoolKey[] {
    return config.instances.map((inst) => ({
      origin: new URL(inst.url).origin,
      pool: config.pool,
      connectMs: config.timeouts.connectMs,
    }));
  }

  /** Next endpoint per the balancer, or null when none is available. */
  pick(): UpstreamEndpoint | null {
    return this.#balancer.pick() as UpstreamEndpoint | null;
  }
}
