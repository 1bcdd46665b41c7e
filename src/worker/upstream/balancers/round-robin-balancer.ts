/**
 * Round robin: endpoints in list order, one after the other, ignoring weights and load.
 *
 * A cursor marks where the next scan starts. A pick scans at most n endpoints from the
 * cursor, returns the first one not skipped, and moves the cursor just past it. Skipped
 * endpoints therefore do not push the rotation forward twice: with a, b, c and b ejected
 * the sequence is a, c, a, c, and when b comes back the rotation carries on where it was.
 * Without `skip` a pick is O(1); with it, O(n) in the worst case.
 *
 * A retry's pick leaves the cursor where it is. Otherwise, with a and b and a failing a,
 * every request would go a (fails), retry b (cursor back to a), so a would take the first
 * try of every request instead of half of them, and every client would pay the retry.
 */
import type { Balancer, Endpoint } from './balancer.js';

/** Plain round robin over the endpoints in list order. */
export class RoundRobinBalancer implements Balancer {
  readonly #endpoints: readonly Endpoint[];
  #next = 0;

  constructor(endpoints: readonly Endpoint[]) {
    // Own copy: the caller mutating its array must not move our indices.
    this.#endpoints = endpoints.slice();
  }

  /** The next endpoint in rotation that `skip` does not reject; null when none. */
  pick(skip?: (e: Endpoint) => boolean, retry = false): Endpoint | null {
    const endpoints = this.#endpoints;
    const n = endpoints.length;
    if (n === 0) return null;
    let i = this.#next;
    for (let scanned = 0; scanned < n; scanned++) {
      const e = endpoints[i]!;
      i = i + 1 === n ? 0 : i + 1;
      if (skip === undefined || !skip(e)) {
        if (!retry) this.#next = i;
        return e;
      }
    }
    return null;
  }
}
