/**
 * Core suite: what the gateway's proxy path costs. The same upstream is measured bare,
 * through the gateway with one worker, through the minimal undici proxy (what a proxy
 * needs at the least) and through @fastify/http-proxy (the off-the-shelf alternative).
 * The goals: at least 1.5× fastify's throughput, at least 0.9× the minimal proxy's.
 *
 * The minimal proxy is measured twice. With FORWARD_HEADERS=1 it writes the fields issue 3
 * requires of every proxied exchange (X-Forwarded-For/-Proto/-Host, Via, X-Request-Id),
 * so it puts the same fields on the wire as the gateway: the 0.9× goal is read against
 * that one, and measures what the gateway's own machinery costs. Bare, it forwards the
 * client's headers only; that ratio is reported too, without a goal, because those
 * fields alone cost a proxy ~10 % here (see README.md, Benchmarks).
 */
import { fileURLToPath } from 'node:url';
import { gatewayTarget } from '../lib/gateway-target.mjs';
import { directTarget, forkedServerTarget } from '../lib/targets.mjs';

const script = (name) => fileURLToPath(new URL(`../${name}`, import.meta.url));

const GATEWAY = 'gateway (1 worker)';
const MINIMAL = 'minimal undici proxy, same fields';
const BARE = 'minimal undici proxy, bare';
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
    forkedServerTarget({ name: MINIMAL, script: script('minimal-proxy.mjs'), env: { FORWARD_HEADERS: '1' } }),
    forkedServerTarget({ name: BARE, script: script('minimal-proxy.mjs') }),
    forkedServerTarget({ name: FASTIFY, script: script('fastify-proxy.mjs') }),
  ],
  comparisons: [
    { label: 'gateway / fastify-http-proxy', numerator: GATEWAY, denominator: FASTIFY, goal: 1.5 },
    { label: 'gateway / minimal-proxy (same fields)', numerator: GATEWAY, denominator: MINIMAL, goal: 0.9 },
    { label: 'gateway / minimal-proxy (bare)', numerator: GATEWAY, denominator: BARE, goal: null },
    // The same comparisons in CPU per request (lower is better): steadier than req/s on a
    // shared machine, where the minimal proxy's req/s moved 31.6k-35.5k between rounds.
    { label: 'gateway / fastify-http-proxy', numerator: GATEWAY, denominator: FASTIFY, goal: null, metric: 'cpu' },
    { label: 'gateway / minimal-proxy (same fields)', numerator: GATEWAY, denominator: MINIMAL, goal: null, metric: 'cpu' },
    { label: 'gateway / minimal-proxy (bare)', numerator: GATEWAY, denominator: BARE, goal: null, metric: 'cpu' },
  ],
  notes: [
    'The load generator runs in the bench process on the same machine, so absolute numbers depend on the CPU count;',
    'compare targets within one run. Every proxy is one process (the gateway: one worker plus its idle primary).',
  ],
};
