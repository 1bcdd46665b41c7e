/** The active health checks a snapshot asks for, in the shape the control thread takes. */
import type { ConfigSnapshot, HealthTarget } from '../ipc/index.js';

/** One target per service whose `healthCheck` is enabled. */
export function healthTargets(snapshot: ConfigSnapshot): HealthTarget[] {
  return snapshot.services
    .filter((s) => s.healthCheck.enabled)
    .map((s) => ({ service: s.name, urls: s.instances.map((i) => i.url), check: s.healthCheck }));
}
