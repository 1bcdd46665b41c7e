/**
 * Runs the real gateway (`node dist/src/cli.js start`) as a child process for
 * integration tests: writes its config, collects its JSON log lines, waits for /ready,
 * and stops it with a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Agent, request } from 'undici';
import { CLI, ROOT } from './repo.js';
import { freePort, waitFor } from './net.js';

/** A gateway child process. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly configFile: string;
  /** GATEWAY_STATE_DIR of this gateway (API key file, audit log); removed on exit. */
  readonly stateDir: string;
  /** Parsed JSON log lines seen so far (stdout). */
  readonly logs: Record<string, unknown>[];
  /** Raw stderr text. */
  stderr: string;
  /** Rewrite the config file (for SIGHUP tests). */
  writeConfig(config: unknown): void;
  /** Send a signal and resolve with the exit code (or signal name). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  /** Resolves when the process exits. */
  readonly exited: Promise<number | string>;
}

/** Options of `startGateway`. */
export interface StartOptions {
  /** Config object (written as YAML), or raw YAML text. */
  readonly config: unknown;
  readonly env?: Record<string, string>;
  /** Wait for /ready (default true). */
  readonly waitReady?: boolean;
  /** The gateway listens with TLS (`server.tls`): `url` is https, and /ready is asked with this CA. */
  readonly tlsCa?: string;
}

/** Build a config with sensible test defaults around `services` and `routes`. */
export function testConfig(port: number, services: unknown[], routes: unknown[], server: Record<string, unknown> = {}): unknown {
  return { server: { host: '127.0.0.1', port, workers: 2, ...server }, services, routes };
}

/** Start the gateway; `config` may use the port from `freePort()` passed in `port`. */
export async function startGateway(makeConfig: (port: number) => unknown, opts: Omit<StartOptions, 'config'> = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
  const configFile = join(dir, 'gateway.yaml');
  const write = (config: unknown) => writeFileSync(configFile, typeof config === 'string' ? config : stringify(config));
  write(makeConfig(port));
  const child = spawn(process.execPath, [CLI, 'start', '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', GATEWAY_ACCESS_LOG: 'off', GATEWAY_STATE_DIR: join(dir, 'state'), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave a gateway behind when the test process ends early (timeout, failure).
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const logs: Record<string, unknown>[] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  const gw: GatewayProcess = {
    child,
    port,
    url: `${opts.tlsCa === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    configFile,
    stateDir: join(dir, 'state'),
    logs,
    stderr: '',
    writeConfig: write,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      resolve(code ?? signal ?? -1);
    })),
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return gw.exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await gw.exited;
      clearTimeout(timer);
      return code;
    },
  };
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (gw.stderr += c));
  if (opts.waitReady !== false) {
    // The chain is checked, not the name: a test may serve a certificate without 127.0.0.1 in it.
    const dispatcher = opts.tlsCa === undefined ? undefined : new Agent({ connect: { ca: opts.tlsCa, checkServerIdentity: () => undefined } });
    try {
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`gateway exited early (${child.exitCode}): ${gw.stderr}`);
        const res = await request(`${gw.url}/__gateway/ready`, { dispatcher });
        const body = (await res.body.json()) as { workersUp: number; workersWanted: number };
        return res.statusCode === 200 && body.workersUp === body.workersWanted;
      }, 20_000, 50);
    } catch (err) {
      await gw.stop('SIGKILL');
      throw new Error(`${(err as Error).message}\nlogs: ${JSON.stringify(logs.slice(-20))}\nstderr: ${gw.stderr}`);
    } finally {
      await dispatcher?.close();
    }
  }
  return gw;
}
