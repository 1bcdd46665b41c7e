/**
 * The node-wide view of every upstream instance: breaker (outlier ejection) state and
 * active health, owned by the primary. Workers report what their own traffic proved
 * (`outlier-report`), the control thread reports probe verdicts (`health-update`); the
 * hub decides (it enforces `maxEjectionPercent` and the growing ejection time across all
 * workers, so two workers ejecting at once cannot both take an instance out past the
 * cap) and pushes each change to every listening worker at once, so evidence one worker
 * collected protects the others within one IPC hop (well under the 1 s).
 */
import type { Worker } from 'node:cluster';
import {
  PROTOCOL_VERSION,
  breakerState,
  ejectionCap,
  ejectionMs,
  inPanic,
  type ConfigSnapshot,
  type EndpointState,
  type OutlierConfig,
  type ToWorker,
} from '../ipc/index.js';
import type { Logger } from '../telemetry/index.js';
import { sendToWorker } from './send-to-worker.js';

interface Entry extends EndpointState {
  /** End of the last ejection, for forgetting old ejections. */
  lastEjectedUntil: number;
  /** Why active checks last changed the verdict. */
  healthReason: string | null;
}

interface ServiceInfo {
  readonly outlier: OutlierConfig;
  readonly urls: readonly string[];
  readonly checked: boolean;
}

/** Options of an EndpointStateHub. */
export interface EndpointStateHubOptions {
  /** Workers that can hear broadcasts. */
  readonly workers: () => Worker[];
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Keeps and distributes the node-wide endpoint state. */
export class EndpointStateHub {
  readonly #opts: EndpointStateHubOptions;
  readonly #entries = new Map<string, Entry>();
  #services = new Map<string, ServiceInfo>();

  constructor(opts: EndpointStateHubOptions) {
    this.#opts = opts;
  }

  /**
   * Also accept reports about the services of `snapshot` (a reload is rolling out: old
   * and new workers serve side by side); nothing is dropped until `setSnapshot`.
   */
  prepare(snapshot: ConfigSnapshot): void {
    for (const s of snapshot.services) this.#services.set(s.name, infoOf(s));
  }

  /**
   * Track exactly the services of `snapshot`: state of instances that stay is kept,
   * state that no longer applies is dropped (removed instances) or reset (ejections of a
   * service whose detection is now off, verdicts of one whose checks are now off), and
   * every worker gets the full state so none keeps a stale entry.
   */
  setSnapshot(snapshot: ConfigSnapshot): void {
    const services = new Map<string, ServiceInfo>();
    const keep = new Set<string>();
    for (const s of snapshot.services) {
      const info = infoOf(s);
      services.set(s.name, info);
      for (const url of info.urls) {
        keep.add(keyOf(s.name, url));
        const e = this.#entry(s.name, url);
        if (!s.outlierDetection.enabled) e.ejectedUntil = 0;
        if (!info.checked) {
          e.healthy = true;
          e.healthReason = null;
        }
      }
    }
    for (const key of this.#entries.keys()) if (!keep.has(key)) this.#entries.delete(key);
    this.#services = services;
    this.#broadcast([...this.#entries.values()], true);
  }

  /** A worker's breaker ejected or recovered an instance: decide and broadcast. */
  report(service: string, url: string, event: 'eject' | 'recover'): void {
    const info = this.#services.get(service);
    if (info === undefined || !info.urls.includes(url)) return; // an old config's instance
    const entry = this.#entry(service, url);
    const now = this.#now();
    if (event === 'recover') {
      if (entry.ejectedUntil !== 0 && now >= entry.ejectedUntil) {
        entry.ejectedUntil = 0;
        this.#opts.logger.info({ service, url, ejections: entry.ejections }, 'upstream instance recovered');
      }
    } else if (entry.ejectedUntil === 0 || now >= entry.ejectedUntil) {
      const halfOpen = entry.ejectedUntil !== 0;
      const od = info.outlier;
      const ejected = info.urls.filter((u) => (this.#entries.get(keyOf(service, u))?.ejectedUntil ?? 0) !== 0).length;
      const cap = ejectionCap(info.urls.length, od.maxEjectionPercent);
      if (halfOpen || ejected < cap) {
        // Ejections long past are forgotten, so a one-off incident does not haunt an instance.
        if (entry.lastEjectedUntil !== 0 && now - entry.lastEjectedUntil > od.maxEjectionMs) entry.ejections = 0;
        entry.ejectedUntil = now + ejectionMs(od, entry.ejections);
        entry.ejections++;
        entry.lastEjectedUntil = entry.ejectedUntil;
        this.#opts.logger.warn(
          { service, url, ejections: entry.ejections, ejectedForMs: entry.ejectedUntil - now },
          'upstream instance ejected (outlier detection)',
        );
      } else {
        this.#opts.logger.warn({ service, url, ejected, cap }, 'ejection refused: maxEjectionPercent reached');
      }
    }
    // Always answer: the reporting worker's tentative state must converge to ours.
    this.#broadcast([entry]);
  }

  /** The control thread's probes changed an instance's health. */
  health(service: string, url: string, healthy: boolean, reason: string): void {
    const info = this.#services.get(service);
    if (info === undefined || !info.urls.includes(url)) return;
    const entry = this.#entry(service, url);
    entry.healthReason = reason;
    if (entry.healthy === healthy) return;
    entry.healthy = healthy;
    this.#opts.logger[healthy ? 'info' : 'warn']({ service, url, reason }, healthy ? 'upstream instance healthy' : 'upstream instance unhealthy');
    this.#broadcast([entry]);
  }

  /** Send the whole state to a worker that just started listening. */
  sendAll(worker: Worker): void {
    const msg: ToWorker = { v: PROTOCOL_VERSION, type: 'endpoint-states', states: [...this.#entries.values()].map(wire), full: true };
    sendToWorker(worker, msg);
  }

  /** Instance counts per service and state, for the `gateway_upstream_instances` gauge. */
  stateCounts(): { service: string; state: string; count: number }[] {
    const now = this.#now();
    const out: { service: string; state: string; count: number }[] = [];
    for (const [name, info] of this.#services) {
      const counts: Record<string, number> = { available: 0, ejected: 0, half_open: 0, unhealthy: 0 };
      for (const url of info.urls) {
        const e = this.#entries.get(keyOf(name, url));
        const state = breakerState(e?.ejectedUntil ?? 0, now);
        if (e !== undefined && !e.healthy) counts.unhealthy!++;
        else if (state === 'open') counts.ejected!++;
        else if (state === 'half-open') counts.half_open!++;
        else counts.available!++;
      }
      for (const state in counts) out.push({ service: name, state, count: counts[state]! });
    }
    return out;
  }

  /** The per-service part of the status document. */
  status(): unknown[] {
    const now = this.#now();
    return [...this.#services].map(([name, info]) => {
      let available = 0;
      const instances = info.urls.map((url) => {
        const e = this.#entries.get(keyOf(name, url));
        const ejectedUntil = e?.ejectedUntil ?? 0;
        const breaker = breakerState(ejectedUntil, now);
        const healthy = e?.healthy ?? true;
        if (healthy && breaker !== 'open') available++;
        return {
          url,
          health: info.checked ? (healthy ? 'healthy' : 'unhealthy') : 'unchecked',
          healthReason: e?.healthReason ?? null,
          breaker,
          ejectedUntil: ejectedUntil === 0 ? null : new Date(ejectedUntil).toISOString(),
          ejections: e?.ejections ?? 0,
        };
      });
      const threshold = info.outlier.panicThresholdPercent;
      return { name, available, total: info.urls.length, panic: inPanic(available, info.urls.length, threshold), instances };
    });
  }

  #entry(service: string, url: string): Entry {
    const key = keyOf(service, url);
    let e = this.#entries.get(key);
    if (e === undefined) {
      e = { service, url, ejectedUntil: 0, ejections: 0, healthy: true, lastEjectedUntil: 0, healthReason: null };
      this.#entries.set(key, e);
    }
    return e;
  }

  #broadcast(entries: Entry[], full = false): void {
    const msg: ToWorker = { v: PROTOCOL_VERSION, type: 'endpoint-states', states: entries.map(wire), full };
    for (const w of this.#opts.workers()) sendToWorker(w, msg);
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }
}

const keyOf = (service: string, url: string) => `${service}\n${url}`;
const infoOf = (s: ConfigSnapshot['services'][number]): ServiceInfo => ({
  outlier: s.outlierDetection,
  urls: s.instances.map((i) => i.url),
  checked: s.healthCheck.enabled,
});
const wire = (e: Entry): EndpointState => ({ service: e.service, url: e.url, ejectedUntil: e.ejectedUntil, ejections: e.ejections, healthy: e.healthy });
