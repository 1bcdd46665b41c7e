/**
 * A service as one worker sees it: its endpoints (instance + pool + base path + breaker
 * state), its load balancer, outlier detector, retry budget, resource-limit counters and
 * timeouts. Rebuilt from each snapshot; pools come from the PoolSet.
 */
import type { Pool } from 'undici';
import type { RetryConfig, ServiceConfig, ServiceLimitsConfig, ServiceTimeouts } from '../../ipc/index.js';
import { createBalancer, type Balancer, type Endpoint } from './balancers/index.js';
import { newOutlierState, OutlierDetector, type OutlierState } from './outlier-detector.js';
import type { PoolKey } from './pool-set.js';
import { RetryBudget } from './retry-budget.js';

/** One upstream instance with what the proxy needs to reach it. */
export interface UpstreamEndpoint extends Endpoint {
  readonly pool: Pool;
  /** The instance URL as configured (normalized): its identity across workers and reloads. */
  readonly url: string;
  /** Base path of the instance URL without trailing slash ('' for none). */
  readonly basePath: string;
  /** `host[:port]` of the instance, for logs. */
  readonly authority: string;
  readonly outlier: OutlierState;
}

/** Node-wide state of one instance, as the primary pushes it. */
export interface SharedEndpointState {
  readonly ejectedUntil: number;
  readonly ejections: number;
  readonly healthy: boolean;
}

/** A routed-to service in one worker. */
export class UpstreamService {
  readonly name: string;
  readonly timeouts: ServiceTimeouts;
  /** Its pools pipeline requests (a request can be sent well before its turn to be answered). */
  readonly pipelined: boolean;
  readonly retry: RetryConfig;
  readonly limits: ServiceLimitsConfig;
  readonly endpoints: readonly UpstreamEndpoint[];
  readonly detector: OutlierDetector;
  readonly budget: RetryBudget;
  /** Requests in flight (a retried request counts once). */
  active = 0;
  /** Tries waiting in a pool queue for a connection. */
  pending = 0;
  /** Retries scheduled or in flight. */
  retriesActive = 0;
  /** Open WebSocket tunnels (see `limits.maxTunnels`). */
  tunnels = 0;
  readonly #balancer: Balancer;
  /** Endpoints ejected, half-open or unhealthy; 0 keeps `pick` on the no-skip fast path. */
  #impaired = 0;
  // Context of the current `pick` for the preallocated skip function.
  #now = 0;
  #tried: readonly UpstreamEndpoint[] | null = null;
  #panic = false;
  readonly #skip = (e: Endpoint): boolean => {
    const u = e as UpstreamEndpoint;
    if (this.#tried !== null && this.#tried.includes(u)) return true;
    return !this.#panic && !this.detector.admits(u.outlier, this.#now);
  };

  constructor(config: ServiceConfig, poolFor: (k: PoolKey) => Pool) {
    this.name = config.name;
    this.timeouts = config.timeouts;
    this.pipelined = config.pool.pipelining > 1;
    this.retry = config.retry;
    this.limits = config.limits;
    this.endpoints = config.instances.map((inst, i) => {
      const url = new URL(inst.url);
      const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
      return {
        id: `${config.name}#${i}`,
        weight: inst.weight,
        active: 0,
        pool: poolFor({ origin: url.origin, pool: config.pool, connectMs: config.timeouts.connectMs }),
        url: inst.url,
        basePath,
        authority: url.host,
        outlier: newOutlierState(config.outlierDetection),
      };
    });
    this.#balancer = createBalancer(config.loadBalancer, this.endpoints);
    this.detector = new OutlierDetector(config.outlierDetection, this.endpoints.map((e) => e.outlier));
    this.budget = new RetryBudget(config.retry.budget.percent, config.retry.budget.minPerSecond);
  }

  /** Pool keys this service needs (so the PoolSet can build them first). */
  static poolKeys(config: ServiceConfig): PoolKey[] {
    return config.instances.map((inst) => ({
      origin: new URL(inst.url).origin,
      pool: config.pool,
      connectMs: config.timeouts.connectMs,
    }));
  }

  /**
   * Next endpoint per the balancer among those that may take a try now, avoiding the
   * ones in `tried` (a retry goes to another instance when one exists). In panic every
   * instance is eligible. Null when none is available.
   */
  pick(now: number, tried: readonly UpstreamEndpoint[] | null = null): UpstreamEndpoint | null {
    if (this.#impaired === 0 && tried === null) return this.#balancer.pick() as UpstreamEndpoint | null;
    this.#now = now;
    this.#panic = this.#impaired > 0 && this.detector.panic(now);
    this.#tried = tried;
    const retry = tried !== null;
    let e = this.#balancer.pick(this.#skip, retry) as UpstreamEndpoint | null;
    if (e === null && retry) {
      // Every available instance was tried already: the same one again beats none.
      this.#tried = null;
      e = this.#balancer.pick(this.#skip, true) as UpstreamEndpoint | null;
    }
    this.#tried = null;
    return e;
  }

  /** Apply node-wide state pushed by the primary to the endpoint with `url`. */
  applyShared(url: string, state: SharedEndpointState): void {
    for (const e of this.endpoints) {
      if (e.url !== url) continue;
      const o = e.outlier;
      if (state.ejectedUntil !== o.ejectedUntil) o.probing = false;
      o.ejectedUntil = state.ejectedUntil;
      o.ejections = state.ejections;
      o.healthy = state.healthy;
    }
    this.refreshImpaired();
  }

  /** Recount impaired endpoints after breaker state changed. */
  refreshImpaired(): void {
    let n = 0;
    for (const e of this.endpoints) if (e.outlier.ejectedUntil !== 0 || !e.outlier.healthy) n++;
    this.#impaired = n;
  }
}
