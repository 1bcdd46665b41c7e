/**
 * Resilience suite: what the full traffic pipeline costs over the core proxy path. The
 * same upstream is measured bare, through the gateway with every resilience feature off
 * (core only), and through the gateway with the full pipeline configured: a node-wide
 * rate limit (never refusing: one IPC round trip to the primary per request), retries
 * with a budget, outlier detection with a failure-rate window, resource limits and an
 * active health check. A last target floods that pipeline past a tiny limit: nearly
 * every answer is a 429, which the worker gives from the primary's earlier refusal
 * (worker/policies/refusal-cache.ts) instead of asking again.
 */
import { fileURLToPath } from 'node:url';
import { gatewayTarget } from '../lib/gateway-target.mjs';
import { directTarget } from '../lib/targets.mjs';

const script = (name) => fileURLToPath(new URL(`../${name}`, import.meta.url));

const CORE = 'gateway core only (1 worker)';
const FULL = 'gateway full pipeline (1 worker)';
const BREAKER = 'gateway retries + breaker, no rate limit (1 worker)';
const FLOOD = 'gateway full pipeline, flood past a 10/s limit (1 worker)';

const coreOnly = (config) => {
  const svc = config.services[0];
  svc.retry = { attempts: 0 };
  svc.outlierDetection = { enabled: false };
  svc.limits = { maxRequests: 0, maxPendingRequests: 0, maxRetries: 0 };
  return config;
};

const resilient = (config) => {
  const svc = config.services[0];
  svc.retry = { attempts: 2, on: ['connect-failure', 'reset', 502, 503, 504], budget: { percent: 20, minPerSecond: 5 } };
  svc.outlierDetection = { consecutive5xx: 5, consecutiveGatewayFailure: 3, failureRate: { percent: 50, minRequests: 50 } };
  svc.limits = { maxRequests: 10_000, maxPendingRequests: 10_000, maxRetries: 10 };
  svc.healthCheck = { enabled: true, path: '/bench/items?id=1', intervalMs: 1000, timeoutMs: 500 };
  return config;
};

const full = (config) => {
  resilient(config);
  config.routes[0].rateLimits = [{ requests: 1_000_000_000, per: 's', key: 'ip' }];
  return config;
};

const flood = (config) => {
  resilient(config);
  config.routes[0].rateLimits = [{ requests: 10, per: 's', key: 'ip' }];
  return config;
};

/** The full-pipeline overhead suite. */
export default {
  name: 'resilience',
  title: 'Full pipeline (rate limit + retries + breaker + limits + health checks) vs core only',
  upstream: script('upstream.mjs'),
  path: '/bench/items?id=1',
  targets: [
    directTarget('direct'),
    gatewayTarget({ name: CORE, workers: 1, configure: coreOnly }),
    gatewayTarget({ name: BREAKER, workers: 1, configure: resilient }),
    gatewayTarget({ name: FULL, workers: 1, configure: full }),
    gatewayTarget({ name: FLOOD, workers: 1, configure: flood }),
  ],
  comparisons: [
    { label: 'retries + breaker / core', numerator: BREAKER, denominator: CORE, goal: 0.95 },
    { label: 'full pipeline / core', numerator: FULL, denominator: CORE, goal: null },
    { label: 'flood of 429s / core', numerator: FLOOD, denominator: CORE, goal: null },
    { label: 'flood of 429s / core', numerator: FLOOD, denominator: CORE, goal: null, metric: 'cpu' },
  ],
  notes: [
    'In the full pipeline the rate limit never refuses; what it costs is the IPC round trip to the primary that owns the node-wide buckets.',
    'The flood target is answered with 429s (the non-2xx column): a refused request skips the upstream, and after the first refusal per second also the IPC round trip. Its latency columns, like every target\'s, count 2xx answers only: here the ~10/s admitted requests.',
    'Compare targets within one run: the load generator shares the machine.',
  ],
};
