/**
 * Benchmark settings from the environment, validated once so a typo fails the run at the
 * start instead of after a minute of measuring.
 */

const DEFAULTS = { durationS: 10, warmupS: 2, connections: 50, rounds: 1 };

/** Read BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_ROUNDS and BENCH_TARGETS. */
export function readSettings(env = process.env) {
  const problems = [];
  const int = (name, def, min) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) problems.push(`${name}=${raw} (expected an integer >= ${min})`);
    return n;
  };
  const settings = {
    durationS: int('BENCH_DURATION', DEFAULTS.durationS, 1),
    warmupS: int('BENCH_WARMUP', DEFAULTS.warmupS, 0),
    connections: int('BENCH_CONNECTIONS', DEFAULTS.connections, 1),
    rounds: int('BENCH_ROUNDS', DEFAULTS.rounds, 1),
    pipelining: 1,
    // Comma-separated substrings of target names; empty runs every target.
    targets: (env.BENCH_TARGETS ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  };
  if (problems.length > 0) throw new Error(`invalid benchmark settings: ${problems.join(', ')}`);
  return settings;
}

/** Whether a target named `name` is selected by BENCH_TARGETS. */
export function selected(settings, name) {
  const lower = name.toLowerCase();
  return settings.targets.length === 0 || settings.targets.some((t) => lower.includes(t));
}
