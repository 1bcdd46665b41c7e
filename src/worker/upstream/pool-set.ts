/**
 * One undici Pool per upstream origin (and pool settings), shared by every service and
 * route of the worker and kept across config swaps, so a reload does not throw away warm
 * keep-alive connections. Pools no config references any more are closed gracefully:
 * in-flight requests finish, then the sockets go.
 */
import { Pool } from 'undici';
import type { PoolConfig } from '../../ipc/index.js';

/** The settings a pool is built with; pools are shared when all of them are equal. */
export interface PoolKey {
  readonly origin: string;
  readonly pool: PoolConfig;
  readonly connectMs: number;
}

const keyOf = (k: PoolKey): string =>
  `${k.origin}|${k.pool.connections}|${k.pool.pipelining}|${k.pool.keepAliveTimeoutMs}|${k.connectMs}`;

/** Pools for one config generation, not yet in effect. */
export interface PoolGeneration {
  poolFor(k: PoolKey): Pool;
  commit(): void;
  rollback(): void;
}

/** Owns the worker's undici pools. */
export class PoolSet {
  #pools = new Map<string, Pool>();

  /**
   * Prepare the pools a new config wants. Nothing changes for the serving config until
   * `commit()`: then pools no longer wanted are closed. `rollback()` closes only the
   * pools this generation created, so a rejected config never disturbs the current one.
   */
  prepare(wanted: readonly PoolKey[]): PoolGeneration {
    const next = new Map<string, Pool>();
    const created: Pool[] = [];
    for (const k of wanted) {
      const key = keyOf(k);
      if (next.has(key)) continue;
      let pool = this.#pools.get(key);
      if (pool === undefined) {
        pool = PoolSet.#create(k);
        created.push(pool);
      }
      next.set(key, pool);
    }
    return {
      poolFor: (k) => next.get(keyOf(k))!,
      commit: () => {
        for (const [key, pool] of this.#pools) {
          if (!next.has(key)) pool.close().catch(() => pool.destroy());
        }
        this.#pools = next;
      },
      rollback: () => {
        for (const pool of created) pool.destroy().catch(() => {});
      },
    };
  }

  /** Close every pool, waiting for in-flight requests (used when draining). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#pools.values()].map((p) => p.close()));
    this.#pools.clear();
  }

  /** Abort everything at once (drain timeout). */
  async destroy(): Promise<void> {
    await Promise.allSettled([...this.#pools.values()].map((p) => p.destroy()));
    this.#pools.clear();
  }

  static #create(k: PoolKey): Pool {
    return new Pool(k.origin, {
      connections: k.pool.connections,
      pipelining: k.pool.pipelining,
      keepAliveTimeout: k.pool.keepAliveTimeoutMs,
      // Upstreams may hint a longer keep-alive; never hold an idle socket beyond ours.
      keepAliveMaxTimeout: k.pool.keepAliveTimeoutMs,
      connect: { timeout: k.connectMs },
    });
  }
}
