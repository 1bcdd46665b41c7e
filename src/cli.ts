#!/usr/bin/env node
/**
 * The `gateway` executable. Subcommands:
 *   gateway [start] [--config FILE] [--env NAME]   run the node (primary + workers)
 *   gateway check   [--config FILE] [--env NAME]   validate config, list every problem
 *   gateway trace <id> | traces --service NAME     read traces back from Jaeger
 *   gateway keys    create|list|revoke             manage API keys (src/commands/keys.ts)
 * Exit codes: 0 ok, 1 invalid config or runtime failure, 2 usage / environment error.
 * Later issues add subcommands here (db init ...).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { UsageError, formatProblem, loadEnvFiles, parseCommandLine } from './common/index.js';
import { stateFiles } from './common/api-keys/index.js';
import { runKeys } from './commands/keys.js';
import { loadConfig } from './control/config/index.js';
import { runPrimary } from './primary/index.js';
import { createLogger, LOG_LEVELS } from './telemetry/index.js';
import { runTraceCommand } from './commands/trace.js';
import { tlsSummary } from './commands/tls-summary.js';

/** Where the release lives: `.env*` files and the default config are read from here. */
const HOME = process.env.GATEWAY_HOME ?? resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const HELP: Record<string, string> = {
  main: `Usage: gateway <command> [options]

Commands:
  start   run the gateway (default)
  check   validate the configuration and exit
  keys    create, list and revoke API keys
  trace   print a trace from Jaeger as a span tree (gateway trace <traceId>)
  traces  list recent traces of a service (gateway traces --service NAME)

Run "gateway <command> --help" for the options of a command.

Options:
  -h, --help     show this help
  -V, --version  print the version and exit
`,
  start: `Usage: gateway start [--config FILE] [--env NAME]

Run the gateway: a primary process, its control thread and worker processes.

Options:
  --config FILE  YAML config (default: $GATEWAY_CONFIG, else config/gateway.yaml)
  --env NAME     load .env, then .env.NAME over it (default: $GATEWAY_ENV);
                 variables already in the environment win
  -h, --help     show this help

Signals: SIGHUP reloads the config (rolling worker replacement; an invalid config is
rejected and the running one kept), SIGTERM/SIGINT drain in-flight requests and exit 0.
`,
  check: `Usage: gateway check [--config FILE] [--env NAME]

Validate the configuration exactly as "start" would and print every problem with
file, line, key path and reason. Exit 0 when valid, 1 when invalid, 2 on usage errors.

Options:
  --config FILE  YAML config (default: $GATEWAY_CONFIG, else config/gateway.yaml)
  --env NAME     load .env, then .env.NAME over it (default: $GATEWAY_ENV)
  -h, --help     show this help
`,
};

interface Invocation {
  readonly command: string;
  readonly help: boolean;
  readonly config: string | undefined;
  readonly env: string | undefined;
}

function parse(argv: string[]): Invocation {
  const parsed = parseCommandLine(argv, {
    config: { type: 'string' },
    env: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'V' },
  });
  if (parsed.values.version === true) return { command: 'version', help: false, config: undefined, env: undefined };
  // `gateway --help` alone lists the commands (`start` is only the default to run).
  if (parsed.positionals.length === 0 && parsed.values.help === true) return { command: 'main', help: true, config: undefined, env: undefined };
  const [command = 'start', ...extra] = parsed.positionals;
  if (!(command in HELP) || command === 'main') {
    if (command === 'help') return { command: 'main', help: true, config: undefined, env: undefined };
    throw new UsageError(`unknown command "${command}"`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  return { command, help: parsed.values.help === true, config: parsed.values.config, env: parsed.values.env };
}

/** Resolve the config path: --config is relative to the cwd, env/default to GATEWAY_HOME. */
function configPath(inv: Invocation): string {
  if (inv.config !== undefined) return resolve(inv.config);
  return resolve(HOME, process.env.GATEWAY_CONFIG || 'config/gateway.yaml');
}

function checkSettings(): void {
  const level = process.env.LOG_LEVEL;
  if (level !== undefined && level !== '' && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
  }
  const access = process.env.GATEWAY_ACCESS_LOG;
  if (access !== undefined && access !== '' && access !== 'on' && access !== 'off') {
    throw new UsageError(`GATEWAY_ACCESS_LOG must be "on" or "off" (got "${access}")`);
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'keys') {
    return runKeys(argv.slice(1), {
      home: HOME,
      env: process.env,
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      loadEnv: (name) => void loadEnvFiles(HOME, name, process.env),
    });
  }
  // The trace commands have options of their own (commands/trace.ts).
  if (argv[0] === 'trace' || argv[0] === 'traces') {
    const io = { env: process.env, home: HOME, out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) };
    return runTraceCommand(argv[0], argv.slice(1), io);
  }
  const inv = parse(argv);
  if (inv.command === 'version') {
    // The package this file ships in (GATEWAY_HOME may point at a config directory).
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    process.stdout.write(`gateway ${pkg.version ?? 'unknown'} (node ${process.version})\n`);
    return 0;
  }
  if (inv.help) {
    process.stdout.write(HELP[inv.command]!);
    return 0;
  }
  const envName = inv.env ?? (process.env.GATEWAY_ENV || undefined);
  loadEnvFiles(HOME, envName, process.env);
  checkSettings();
  // State paths made absolute here, so the control thread, workers and CLI agree on them.
  const files = stateFiles(HOME, process.env);
  Object.assign(process.env, { GATEWAY_STATE_DIR: files.stateDir, GATEWAY_API_KEYS_FILE: files.apiKeysFile, GATEWAY_AUDIT_LOG: files.auditLog });
  const file = configPath(inv);

  if (inv.command === 'check') {
    const result = await loadConfig(file, { env: process.env, version: 1 });
    if (!result.ok) {
      for (const p of result.problems) process.stderr.write(formatProblem(p) + '\n');
      process.stderr.write(`${file}: ${result.problems.length} problem(s); config is invalid\n`);
      return 1;
    }
    const s = result.snapshot;
    process.stdout.write(`${file}: ok (${s.routes.length} routes, ${s.services.length} services)\n`);
    if (s.server.tls != null) {
      const { lines, warnings } = tlsSummary(s.server.tls, Date.now());
      for (const line of lines) process.stdout.write(`${line}\n`);
      for (const warning of warnings) process.stderr.write(`${warning}\n`);
    }
    return 0;
  }

  const logger = createLogger({ level: process.env.LOG_LEVEL || 'info', base: { role: 'primary' } });
  logger.info({ env: envName ?? null, configFile: file }, 'starting gateway');
  return runPrimary({ configFile: file, env: { ...process.env }, logger });
}

main(process.argv.slice(2)).then(
  // stdout/stderr are synchronous for files and pipes on Linux, so nothing is lost; the
  // primary may still hold handles (cluster, control thread) that must not keep it alive.
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`gateway: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`gateway: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
    process.exit();
  },
);
