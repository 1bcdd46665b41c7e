/**
 * Semantic checks of a service's resilience settings that the schema cannot express:
 * ranges whose two ends must be ordered, and a probe timeout that must fit its interval.
 */
import type { HealthCheckConfig, OutlierConfig, RetryConfig } from '../../ipc/index.js';
import type { KeyPath, Report } from './loader.js';

/** The parts of a schema-valid service these checks read. */
interface ResilientService {
  retry: RetryConfig;
  outlierDetection: OutlierConfig;
  healthCheck: HealthCheckConfig;
}

/** Report every resilience problem of `service` (at `services[i]`). */
export function resilienceProblems(service: ResilientService, at: KeyPath, report: Report): void {
  const { retry, outlierDetection: od, healthCheck: hc } = service;
  if (retry.backoff.maxMs < retry.backoff.baseMs) {
    report([...at, 'retry', 'backoff', 'maxMs'], `must be at least backoff.baseMs (${retry.backoff.baseMs})`);
  }
  if (retry.totalTimeoutMs > 0 && retry.perTryTimeoutMs > retry.totalTimeoutMs) {
    report([...at, 'retry', 'perTryTimeoutMs'], `must not exceed totalTimeoutMs (${retry.totalTimeoutMs})`);
  }
  if (od.maxEjectionMs < od.baseEjectionMs) {
    report([...at, 'outlierDetection', 'maxEjectionMs'], `must be at least baseEjectionMs (${od.baseEjectionMs})`);
  }
  if (hc.timeoutMs >= hc.intervalMs) {
    report([...at, 'healthCheck', 'timeoutMs'], `must be shorter than intervalMs (${hc.intervalMs}) so probes never overlap`);
  }
  hc.expectedStatuses.forEach((s, j) => {
    if (typeof s !== 'string') return;
    const [lo, hi] = s.split('-').map(Number) as [number, number];
    if (lo > hi) report([...at, 'healthCheck', 'expectedStatuses', j], `range "${s}" is empty (${lo} > ${hi})`);
  });
}
