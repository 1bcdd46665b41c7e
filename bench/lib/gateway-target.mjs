/**
 * The gateway as a benchmark target: write a config file for it, start the built CLI
 * (`node dist/src/cli.js start --config <file>`) and wait for its readiness endpoint.
 *
 * Later suites (full pipeline, auth, telemetry) reuse this with a `configure` hook that
 * edits the base config object before it is written, plus extra environment.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort } from './free-port.mjs';
import { waitForOk } from './http-check.mjs';
import { TargetUnavailableError } from './targets.mjs';
import { groupCpuMs } from './group-cpu.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// BENCH_GATEWAY_CLI points at another build (a branch checked out elsewhere, a stub).
const CLI = path.resolve(ROOT, process.env.BENCH_GATEWAY_CLI || 'dist/src/cli.js');
// Gitignored scratch space for generated configs.
const TMP = path.join(ROOT, 'bench/.tmp');

const READY_PATH = '/__gateway/ready';
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 15_000;

/** The config every gateway target starts from: one service, one catch-all route. */
export function baseGatewayConfig({ port, workers, upstreamUrl }) {
  return {
    server: { host: '127.0.0.1', port, workers },
    services: [{ name: 'bench', instances: [{ url: upstreamUrl.replace(/\/$/, '') }] }],
    routes: [{ id: 'bench', paths: ['/*'], service: 'bench' }],
  };
}

/**
 * A gateway target with `workers` worker processes; `configure(config)` may edit the
 * config; `headers` are sent with every measured request (e.g. credentials); `scheme`
 * 'https' when `configure` turns on `server.tls`.
 */
export function gatewayTarget({ name, workers = 1, configure = (c) => c, env = {}, headers = {}, scheme = 'http' }) {
  return {
    name,
    async start(ctx) {
      if (!existsSync(CLI)) {
        throw new TargetUnavailableError(`${path.relative(ROOT, CLI)} not found (is the gateway built? npm run build)`);
      }
      const port = await freePort();
      const config = configure(baseGatewayConfig({ port, workers, upstreamUrl: ctx.upstreamUrl }));
      await mkdir(TMP, { recursive: true });
      const configFile = path.join(TMP, `gateway-${process.pid}-${port}.yaml`);
      await writeFile(configFile, stringify(config));
      const child = ctx.processes.spawn(name, process.execPath, [CLI, 'start', '--config', configFile], {
        cwd: ROOT,
        env: { GATEWAY_WORKERS: String(workers), LOG_LEVEL: 'warn', GATEWAY_ACCESS_LOG: 'off', ...env },
      });
      const cleanup = () => rm(configFile, { force: true });
      try {
        await waitForOk(`${scheme}://127.0.0.1:${port}${READY_PATH}`, { timeoutMs: READY_TIMEOUT_MS, child });
      } catch (err) {
        await child.stop(2000);
        await cleanup();
        throw err;
      }
      return {
        url: `${scheme}://127.0.0.1:${port}/`,
        headers,
        // The primary leads the process group its workers are forked into.
        cpuMs: () => groupCpuMs(child.pid),
        async stop() {
          const result = await child.stop(STOP_GRACE_MS);
          await cleanup();
          if (!result.graceful || child.exitCode !== 0) result.note = `${child.exitDescription}${child.outputTail(10)}`;
          return result;
        },
      };
    },
  };
}
