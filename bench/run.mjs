/**
 * Benchmark entry point: `node bench/run.mjs [suite ...]` (or `npm run bench`, which
 * builds first). Runs the named suites, or all of them, and writes
 * bench/results/<suite>.{md,json}. Settings come from the environment, see README.md.
 *
 * To add a suite, write bench/suites/<name>.mjs (see core.mjs) and list it below.
 * Exit code: 0 when every target ran or was unavailable, 1 when one failed, 2 on bad
 * arguments or settings.
 */
import { pin, pinPlan } from './lib/cpu-pinning.mjs';
import { ProcessGroup } from './lib/processes.mjs';
import { toMarkdown, writeReport } from './lib/report.mjs';
import { readSettings } from './lib/settings.mjs';
import { runSuite } from './lib/suite.mjs';
import auth from './suites/auth.mjs';
import core from './suites/core.mjs';
import resilience from './suites/resilience.mjs';
import telemetry from './suites/telemetry.mjs';
import tls from './suites/tls.mjs';

const SUITES = [core, resilience, auth, telemetry, tls];

const log = (msg) => process.stderr.write(`${msg}\n`);
// The bench process (load generator) and the upstream it forks run on CPU 0, each proxy
// under test on the other CPU(s); see lib/cpu-pinning.mjs.
const plan = pinPlan();
if (plan !== null) pin(process.pid, plan.load);
const processes = new ProcessGroup({ pinProxiesTo: plan?.proxy ?? null });

// Whatever ends this process, no server it started may survive it.
process.on('exit', () => processes.killAllSync());
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => {
    log(`\n${sig}: stopping`);
    processes.killAllSync();
    process.exit(code);
  });
}

async function main() {
  let settings;
  try {
    settings = { ...readSettings(), pinning: plan };
  } catch (err) {
    log(err.message);
    return 2;
  }
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) {
    log(`unknown suite(s): ${unknown.join(', ')}; available: ${SUITES.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const suites = names.length > 0 ? SUITES.filter((s) => names.includes(s.name)) : SUITES;

  let failed = false;
  for (const suite of suites) {
    const result = await runSuite(suite, { settings, processes, log });
    const { md, json } = await writeReport(result);
    log(`[${suite.name}] wrote ${md} and ${json}`);
    process.stdout.write(`\n${toMarkdown(result)}\n`);
    if (result.results.some((t) => t.status === 'failed')) failed = true;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    processes.killAllSync();
    process.exit(code);
  },
  (err) => {
    log(err.stack ?? String(err));
    processes.killAllSync();
    process.exit(1);
  },
);
