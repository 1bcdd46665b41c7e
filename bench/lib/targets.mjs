/**
 * Targets are the things a suite measures. Each has a `name` and a `start(ctx)` that
 * resolves with `{ url, stop }`; `stop()` resolves with what the process did on SIGTERM.
 * `ctx` carries the run's ProcessGroup and the shared upstream's URL. A target that
 * cannot exist in this checkout (e.g. the gateway is not built) throws
 * `TargetUnavailableError`, which the report shows as "unavailable" rather than failed.
 */

import { groupCpuMs } from './group-cpu.mjs';

/** The target cannot run here (missing build, missing feature); not a failure of it. */
export class TargetUnavailableError extends Error {}

/** The upstream itself, with no proxy in front: the ceiling for every other target. */
export function directTarget(name = 'direct') {
  return {
    name,
    async start(ctx) {
      return { url: ctx.upstreamUrl, stop: async () => ({ graceful: true, stragglers: false, ms: 0 }) };
    },
  };
}

/**
 * A Node server script forked with UPSTREAM_URL in its environment, which announces its
 * port over IPC (see child-server.mjs): the minimal proxy, the fastify proxy, and any
 * competitor a later suite adds. `scheme` 'https' for one that listens with TLS.
 */
export function forkedServerTarget({ name, script, env = {}, scheme = 'http' }) {
  return {
    name,
    async start(ctx) {
      const { child, port } = await ctx.processes.forkServer(name, script, {
        env: { ...env, UPSTREAM_URL: ctx.upstreamUrl },
      });
      // Forked detached: the child leads its own process group, so its CPU is measured
      // the same way as the gateway's (the CPU µs/req column compares like with like).
      return { url: `${scheme}://127.0.0.1:${port}/`, cpuMs: () => groupCpuMs(child.pid), stop: () => child.stop(5000) };
    },
  };
}
