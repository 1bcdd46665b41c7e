/**
 * Outlier detection per upstream instance: the gateway's circuit breaker, in Envoy's
 * vocabulary. The classic breaker states map onto it like this:
 *   closed    = not ejected: the instance takes traffic; every try outcome is counted;
 *   open      = ejected until `ejectedUntil`: balancers skip the instance;
 *   half-open = the ejection time has passed: exactly one try at a time (a probe) may go
 *               to the instance; its success closes the breaker, its failure re-ejects
 *               at once for longer.
 * An instance is ejected after `consecutive5xx` 5xx/local failures in a row, after
 * `consecutiveGatewayFailure` gateway failures (502/503/504, connect failure, reset,
 * timeout) in a row, or when its failure share over a sliding window reaches
 * `failureRate.percent` with at least `minRequests` tries in it. The n-th ejection lasts
 * min(n × baseEjectionMs, maxEjectionMs). At most `maxEjectionPercent` % of a service's
 * instances are ejected at once, but one always may be (as in Envoy). When fewer than
 * `panicThresholdPercent` % of the instances can take traffic (ejected or failing active
 * health checks), the service is in panic and balances over all of them, so the breaker
 * can never take a whole service dark.
 *
 * The detector runs per worker on that worker's evidence; ejections and recoveries are
 * reported to the primary, which keeps the node-wide state (and the ejection count) and
 * pushes it to every worker, so one worker's evidence protects the others.
 */
import { ejectionCap, ejectionMs, inPanic, type OutlierConfig } from '../../ipc/index.js';

/** What one try to an instance proved. */
export type TryResult = 'success' | '5xx' | 'gateway-failure';

/** The per-instance state the detector keeps (lives on the endpoint object). */
export interface OutlierState {
  /** Epoch ms until which the instance is ejected; 0 when it is not. */
  ejectedUntil: number;
  /** Node-wide ejection count (grows the ejection time). */
  ejections: number;
  /** Verdict of active health checks (true when they are off). */
  healthy: boolean;
  /** Half-open: the probe try is in flight. */
  probing: boolean;
  consecutive5xx: number;
  consecutiveGateway: number;
  /** Failure-rate window: [tries, failures] per bucket, or null when that check is off. */
  window: Float64Array | null;
  windowEpoch: number;
}

/** Fresh state for an instance. */
export function newOutlierState(config: OutlierConfig): OutlierState {
  return {
    ejectedUntil: 0,
    ejections: 0,
    healthy: true,
    probing: false,
    consecutive5xx: 0,
    consecutiveGateway: 0,
    window: config.enabled && config.failureRate.percent > 0 ? new Float64Array(BUCKETS * 2) : null,
    windowEpoch: -1,
  };
}

const BUCKETS = 10;

/** Detector of one service in one worker. */
export class OutlierDetector {
  readonly #config: OutlierConfig;
  readonly #states: readonly OutlierState[];
  readonly #bucketMs: number;

  constructor(config: OutlierConfig, states: readonly OutlierState[]) {
    this.#config = config;
    this.#states = states;
    this.#bucketMs = config.failureRate.windowMs / BUCKETS;
  }

  /** True when the instance may take a try now (closed, or half-open with no probe out). */
  admits(s: OutlierState, now: number): boolean {
    if (!s.healthy) return false;
    if (s.ejectedUntil === 0 || !this.#config.enabled) return true;
    return now >= s.ejectedUntil && !s.probing;
  }

  /** True when too few instances can take traffic: balance over all of them. */
  panic(now: number): boolean {
    const threshold = this.#config.panicThresholdPercent;
    if (threshold <= 0) return false;
    let available = 0;
    const enabled = this.#config.enabled;
    for (const s of this.#states) if (s.healthy && (!enabled || s.ejectedUntil === 0 || now >= s.ejectedUntil)) available++;
    return inPanic(available, this.#states.length, threshold);
  }

  /** A try is being sent to the instance; in half-open it becomes the probe (→ true). */
  tryStarted(s: OutlierState, now: number): boolean {
    if (s.ejectedUntil === 0 || now < s.ejectedUntil || s.probing) return false;
    s.probing = true;
    return true;
  }

  /** The probe ended without a verdict (client gone, queue timeout): let another one go. */
  probeAbandoned(s: OutlierState): void {
    s.probing = false;
  }

  /**
   * Count the outcome of a try (`probe`: it was the half-open probe). Returns 'eject' when
   * this outcome ejected the instance, 'recover' when it closed a half-open breaker, else
   * null. While ejected or half-open only the probe's outcome counts: a slow try that
   * started before the ejection, or a panic-mode try, decides nothing.
   */
  record(s: OutlierState, result: TryResult, now: number, probe = false): 'eject' | 'recover' | null {
    if (!this.#config.enabled) return null;
    if (s.ejectedUntil !== 0) {
      if (now < s.ejectedUntil || !probe) return null;
      s.probing = false;
      if (result === 'success') {
        s.ejectedUntil = 0;
        this.#reset(s);
        return 'recover';
      }
      return this.#eject(s, now, true) ? 'eject' : null;
    }
    const failed = result !== 'success';
    this.#count(s, failed, now);
    if (!failed) {
      s.consecutive5xx = 0;
      s.consecutiveGateway = 0;
      return null;
    }
    s.consecutive5xx++;
    s.consecutiveGateway = result === 'gateway-failure' ? s.consecutiveGateway + 1 : 0;
    const c = this.#config;
    const tripped =
      (c.consecutive5xx > 0 && s.consecutive5xx >= c.consecutive5xx) ||
      (c.consecutiveGatewayFailure > 0 && s.consecutiveGateway >= c.consecutiveGatewayFailure) ||
      this.#rateTripped(s);
    return tripped && this.#eject(s, now, false) ? 'eject' : null;
  }

  #eject(s: OutlierState, now: number, reEject: boolean): boolean {
    // A half-open instance is counted as ejected already, so re-ejecting it never trips the cap.
    if (!reEject) {
      let ejected = 0;
      for (const o of this.#states) if (o.ejectedUntil !== 0) ejected++;
      if (ejected >= ejectionCap(this.#states.length, this.#config.maxEjectionPercent)) return false;
    }
    s.ejectedUntil = now + ejectionMs(this.#config, s.ejections);
    s.ejections++;
    this.#reset(s);
    return true;
  }

  #reset(s: OutlierState): void {
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
    s.probing = false;
    s.window?.fill(0);
  }

  #count(s: OutlierState, failed: boolean, now: number): void {
    const w = s.window;
    if (w === null) return;
    const epoch = Math.floor(now / this.#bucketMs);
    if (epoch > s.windowEpoch) {
      const steps = s.windowEpoch < 0 ? BUCKETS : Math.min(BUCKETS, epoch - s.windowEpoch);
      for (let k = 1; k <= steps; k++) {
        const i = ((epoch - steps + k) % BUCKETS) * 2;
        w[i] = 0;
        w[i + 1] = 0;
      }
      s.windowEpoch = epoch;
    }
    const i = (s.windowEpoch % BUCKETS) * 2;
    w[i]!++;
    if (failed) w[i + 1]!++;
  }

  #rateTripped(s: OutlierState): boolean {
    const w = s.window;
    if (w === null) return false;
    let tries = 0;
    let failures = 0;
    for (let i = 0; i < w.length; i += 2) {
      tries += w[i]!;
      failures += w[i + 1]!;
    }
    const fr = this.#config.failureRate;
    return tries >= fr.minRequests && failures * 100 >= fr.percent * tries;
  }
}
