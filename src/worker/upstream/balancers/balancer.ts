/**
 * The contract every load balancer implements. Balancers are per worker and per service,
 * single-threaded, and hold no timers: all state changes happen inside `pick`.
 */

/** An upstream instance as balancers see it; `active` is in-flight requests, kept up to date by the proxy. */
export interface Endpoint {
  readonly id: string;
  readonly weight: number;
  active: number;
}

/** Chooses the endpoint for the next attempt of a request. */
export interface Balancer {
  /**
   * Pick an endpoint, skipping those for which `skip(e)` is true (already tried, ejected);
   * null when none is left. Never throws (an exception thrown by `skip` itself propagates).
   * `retry`: the pick is a retry's (it should not move a rotation on: see round robin).
   */
  pick(skip?: (e: Endpoint) => boolean, retry?: boolean): Endpoint | null;
}

/** A source of uniform numbers in [0, 1), like `Math.random`; injectable for tests. */
export type RandomSource = () => number;
