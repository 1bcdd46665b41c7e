/**
 * The load generator: autocannon's programmatic API, run in the bench process itself.
 * A warm-up run (result discarded) lets JIT, connection pools and keep-alive sockets
 * settle before the measured run, which is what the reported numbers come from.
 * Latencies come from our own recorder (see latency-recorder.mjs), counting 2xx
 * responses only, as autocannon does.
 */
import autocannon from 'autocannon';
import { LatencyRecorder } from './latency-recorder.mjs';

function run(opts, recorder) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    if (recorder) {
      instance.on('response', (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) recorder.record(ms);
      });
    }
  });
}

const round3 = (n) => (n === null ? null : Math.round(n * 1000) / 1000);

/**
 * Warm up, then measure `url` with `settings` and request `headers`; resolve with a flat
 * summary. `cpuMs()` (optional) reads the target's CPU time; it is sampled around the
 * measured run.
 */
export async function measure(url, settings, { headers = {}, cpuMs = () => null } = {}) {
  const base = { url, connections: settings.connections, pipelining: settings.pipelining, timeout: 10, headers };
  if (settings.warmupS > 0) await run({ ...base, duration: settings.warmupS });
  const latency = new LatencyRecorder();
  const cpuBefore = cpuMs();
  const r = await run({ ...base, duration: settings.durationS }, latency);
  const cpuAfter = cpuMs();
  return {
    // Target CPU (all its processes) per measured request, in µs; null when unknown.
    cpuUsPerRequest: cpuBefore === null || cpuAfter === null || r.requests.total === 0 ? null : round3(((cpuAfter - cpuBefore) * 1000) / r.requests.total),
    // Mean of the per-second samples, as autocannon prints it.
    rps: r.requests.average,
    requests: r.requests.total,
    latencyMs: {
      avg: round3(latency.mean()),
      p50: round3(latency.percentile(50)),
      p90: round3(latency.percentile(90)),
      p99: round3(latency.percentile(99)),
      max: round3(latency.percentile(100)),
    },
    throughputBps: r.throughput.average,
    errors: r.errors,
    timeouts: r.timeouts,
    resets: r.resets ?? 0,
    non2xx: r.non2xx,
    durationS: r.duration,
  };
}
