/**
 * Telemetry suite: what tracing costs on top of the gateway's always-on metrics. The same
 * gateway (1 worker) is measured with tracing off, at 1 % and 100 % sampling exporting
 * to a Jaeger collector stand-in (bench/jaeger-sink.mjs, which answers 202 like Jaeger),
 * and at 100 % with the collector down (every batch fails and is dropped and counted).
 *
 * Metrics cannot be switched off (they are hot-path counters, always on), so "off" is
 * the gateway with metrics and without tracing: the ratios are the cost of tracing.
 */
import { fileURLToPath } from 'node:url';
import { freePort } from '../lib/free-port.mjs';
import { gatewayTarget } from '../lib/gateway-target.mjs';

const script = (name) => fileURLToPath(new URL(`../${name}`, import.meta.url));

const OFF = 'gateway, tracing off';
const ONE = 'gateway, tracing 1 %';
const ALL = 'gateway, tracing 100 %';
const DOWN = 'gateway, tracing 100 %, collector down';

/** A gateway target whose config gets `telemetry.tracing` with the endpoint `endpoint(ctx)` resolves. */
function tracedTarget(name, sampleRatio, endpoint) {
  return {
    name,
    async start(ctx) {
      const url = await endpoint(ctx);
      const tracing = { enabled: true, sampleRatio, endpoint: url, exportTimeoutMs: 1000 };
      return gatewayTarget({ name, workers: 1, configure: (c) => ({ ...c, telemetry: { tracing } }) }).start(ctx);
    },
  };
}

// One sink for the whole run, started with the first target that needs it; the run's
// ProcessGroup stops it with everything else.
let sink = null;
const sinkEndpoint = async (ctx) => {
  sink ??= ctx.processes.forkServer('jaeger-sink', script('jaeger-sink.mjs'), { pinWithLoad: true });
  const { port } = await sink;
  return `http://127.0.0.1:${port}/api/traces`;
};
const deadEndpoint = async () => `http://127.0.0.1:${await freePort()}/api/traces`;

/** The tracing-cost suite. */
export default {
  name: 'telemetry',
  title: 'Telemetry cost (metrics always on; tracing off, 1 %, 100 %)',
  upstream: script('upstream.mjs'),
  path: '/bench/items?id=1',
  targets: [
    gatewayTarget({ name: OFF, workers: 1 }),
    tracedTarget(ONE, 0.01, sinkEndpoint),
    tracedTarget(ALL, 1, sinkEndpoint),
    tracedTarget(DOWN, 1, deadEndpoint),
  ],
  // CPU per request is the number to trust here (see bench/README.md); req/s is shown
  // for completeness and moves with whatever else the machine is doing.
  comparisons: [
    { label: 'tracing 1 % / off', numerator: ONE, denominator: OFF, goal: 1.15, metric: 'cpu' },
    { label: 'tracing 100 % / off', numerator: ALL, denominator: OFF, goal: 3, metric: 'cpu' },
    { label: 'tracing 100 %, collector down / off', numerator: DOWN, denominator: OFF, goal: 3, metric: 'cpu' },
    { label: 'tracing 1 % / off', numerator: ONE, denominator: OFF, goal: 0.9 },
  ],
  notes: [
    'Same machine for load generator, upstream, collector stand-in (CPU 0) and gateway (CPU 1): compare targets within one run.',
    'CPU µs/req = CPU time of the gateway\'s processes during the measured run / requests; it is far steadier than req/s on a',
    'shared VM (req/s of one target varied 2× between rounds here, CPU/req a few %). At 100 % every request exports 2 spans',
    '(server + client) through @opentelemetry/exporter-jaeger, whose Thrift encoding costs ~25 µs per span on this VM.',
    'The first ~1 700 exported spans of each worker cost more: jaeger-client calls the deprecated Buffer() constructor, and',
    'Node checks the caller\'s stack for its first 10 000 calls (~80 ms CPU once per worker). Short runs at 1 % stay inside',
    'that warm-up, so they overstate the 1 % cost; the unsampled path alone costs ~5 µs/req (see bench/README.md).',
  ],
};
