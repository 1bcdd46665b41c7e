/**
 * Core suite: what the gateway's proxy path costs. The same upstream is measured bare,
 * through the gateway with one worker, through the minimal undici proxy (what a proxy
 * needs at the least) and through @fastify/http-proxy (the off-the-shelf alternative).
 * The goals: at least 1.5× fastify's throughput, at least 0.9× the minimal proxy's.
 */
import { fileURLToPath } from 'node:url';
import { gatewayTarget } from '../lib/gateway-target.mjs';
import { directTarget, forkedServerTarget } from '../lib/targets.mjs';

const script = (name) => fileURLToPath(new URL(`../${name}`, import.meta.url));

const GATEWAY = 'gateway (1 worker)';
const MINIMAL = 'minimal undici proxy';
const FASTIFY = '@fastify/http-proxy';

/** The core proxy-overhead suite. */
export default {
  name: 'core',
  title: 'Core proxy overhead',
  upstream: script('upstream.mjs'),
  path: '/bench/items?id=1',
  targets: [
    directTarget('direct'),
    gatewayTarget({ name: GATEWAY, workers: 1 }),
    forkedServerTarget({ name: MINIMAL, script: script('minimal-proxy.mjs') }),
    forkedServerTarget({ name: FASTIFY, script: script('fastify-proxy.mjs') }),
  ],
  comparisons: [
    { label: 'gateway / fastify-http-proxy', numerator: GATEWAY, denominator: FASTIFY, goal: 1.5 },
    { label: 'gateway / minimal-proxy', numerator: GATEWAY, denominator: MINIMAL, goal: 0.9 },
    // The same comparisons in CPU per request (lower is better): steadier than req/s on a
    // shared machine, where the minimal proxy's req/s moved 31.6k-35.5k between rounds.
    { label: 'gateway / fastify-http-proxy', numerator: GATEWAY, denominator: FASTIFY, goal: null, metric: 'cpu' },
    { label: 'gateway / minimal-proxy', numerator: GATEWAY, denominator: MINIMAL, goal: null, metric: 'cpu' },
  ],
  notes: [
    'The load generator runs in the bench process on the same machine, so absolute numbers depend on the CPU count;',
    'compare targets within one run. Every proxy is one process (the gateway: one worker plus its idle primary).',
  ],
};
