/**
 * Active health checks, once per node (in the control thread, never in every worker):
 * each instance of a service with `healthCheck.enabled` gets an HTTP GET of
 * `origin + path` every `intervalMs`, bounded by `timeoutMs`. A status listed in
 * `expectedStatuses` is a success; anything else, a timeout or a connection error is a
 * failure. An instance's verdict changes after `unhealthyThreshold` failures or
 * `healthyThreshold` successes in a row, and only changes are reported. A new or
 * restarted prober starts from "unknown" and reports its first verdict once a threshold
 * is met, so the primary's view converges even after this thread restarts.
 */
import { Agent, request } from 'undici';
import type { HealthCheckConfig, HealthTarget } from '../../ipc/index.js';

/** A verdict change to report. */
export interface HealthChange {
  readonly service: string;
  readonly url: string;
  readonly healthy: boolean;
  readonly reason: string;
}

interface Probe {
  readonly key: string;
  readonly service: string;
  readonly url: string;
  readonly check: HealthCheckConfig;
  readonly target: string;
  verdict: boolean | null;
  successes: number;
  failures: number;
  timer: NodeJS.Timeout | null;
  inFlight: boolean;
}

/** True when `status` is one of `expected` (numbers or "lo-hi" ranges). */
export function statusExpected(status: number, expected: readonly (number | string)[]): boolean {
  for (const e of expected) {
    if (typeof e === 'number') {
      if (status === e) return true;
    } else {
      const [lo, hi] = e.split('-').map(Number) as [number, number];
      if (status >= lo && status <= hi) return true;
    }
  }
  return false;
}

/** Runs the probes of the current targets. */
export class HealthProber {
  readonly #onChange: (c: HealthChange) => void;
  readonly #onProbe: (service: string, ok: boolean, seconds: number) => void;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  #probes = new Map<string, Probe>();

  /** `onProbe` sees every probe's result (for metrics); `onChange` only verdict changes. */
  constructor(onChange: (c: HealthChange) => void, onProbe: (service: string, ok: boolean, seconds: number) => void = () => {}) {
    this.#onChange = onChange;
    this.#onProbe = onProbe;
  }

  /** Probe exactly `targets` from now on; instances that stay keep their verdict. */
  setTargets(targets: readonly HealthTarget[]): void {
    const next = new Map<string, Probe>();
    for (const t of targets) {
      for (const url of t.urls) {
        const key = `${t.service}\n${url}\n${JSON.stringify(t.check)}`;
        const old = this.#probes.get(key);
        if (old !== undefined) {
          next.set(key, old);
          continue;
        }
        const origin = new URL(url).origin;
        const target = new URL(t.check.path, origin);
        // The schema refuses paths that leave the origin; never probe another host anyway.
        if (target.origin !== origin) continue;
        const probe: Probe = {
          key,
          service: t.service,
          url,
          check: t.check,
          target: target.href,
          verdict: null,
          successes: 0,
          failures: 0,
          timer: null,
          inFlight: false,
        };
        next.set(key, probe);
        // Spread the first probes over the interval so a big config does not probe in a burst.
        this.#schedule(probe, Math.floor(Math.random() * Math.min(t.check.intervalMs, 1000)));
      }
    }
    for (const [key, p] of this.#probes) if (!next.has(key) && p.timer !== null) clearTimeout(p.timer);
    this.#probes = next;
  }

  /** Stop every probe. */
  async close(): Promise<void> {
    for (const p of this.#probes.values()) if (p.timer !== null) clearTimeout(p.timer);
    this.#probes.clear();
    await this.#agent.close();
  }

  #schedule(p: Probe, delay: number): void {
    p.timer = setTimeout(() => void this.#run(p), delay);
  }

  async #run(p: Probe): Promise<void> {
    p.timer = null;
    if (this.#probes.get(p.key) !== p) return; // removed meanwhile
    let ok = false;
    let reason: string;
    const started = performance.now();
    try {
      const res = await request(p.target, {
        dispatcher: this.#agent,
        method: 'GET',
        headers: { 'user-agent': 'gateway-health-check', connection: 'keep-alive' },
        headersTimeout: p.check.timeoutMs,
        bodyTimeout: p.check.timeoutMs,
        signal: AbortSignal.timeout(p.check.timeoutMs),
      });
      await res.body.dump();
      ok = statusExpected(res.statusCode, p.check.expectedStatuses);
      reason = `GET ${p.check.path} answered ${res.statusCode}`;
    } catch (err) {
      const e = err as { code?: string; name?: string; message: string };
      reason = `GET ${p.check.path} failed: ${e.code ?? e.name ?? 'error'} ${e.message}`;
    }
    if (this.#probes.get(p.key) !== p) return;
    this.#onProbe(p.service, ok, (performance.now() - started) / 1000);
    this.#count(p, ok, reason);
    this.#schedule(p, p.check.intervalMs);
  }

  #count(p: Probe, ok: boolean, reason: string): void {
    if (ok) {
      p.successes++;
      p.failures = 0;
      if (p.verdict !== true && p.successes >= p.check.healthyThreshold) this.#change(p, true, reason);
    } else {
      p.failures++;
      p.successes = 0;
      if (p.verdict !== false && p.failures >= p.check.unhealthyThreshold) this.#change(p, false, reason);
    }
  }

  #change(p: Probe, healthy: boolean, reason: string): void {
    p.verdict = healthy;
    this.#onChange({ service: p.service, url: p.url, healthy, reason });
  }
}
