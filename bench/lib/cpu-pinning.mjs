/**
 * CPU pinning for a fairer comparison on small machines. Unpinned, the load generator,
 * the upstream and the proxy under test fight over the same cores and the scheduler's
 * choices show up as noise that swamps the proxies' differences (rounds were seen to vary
 * 2× here). Pinned, the bench process (autocannon) and the upstream share CPU 0 and the
 * proxy under test gets CPU 1 to itself, so its req/s measures its own cost per request.
 * Needs `taskset` (util-linux) and ≥ 2 CPUs; BENCH_PIN=0 turns it off.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** The CPU list proxies are pinned to, or null when pinning is off or impossible. */
export function pinPlan(env = process.env) {
  if (env.BENCH_PIN === '0' || availableParallelism() < 2) return null;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const last = availableParallelism() - 1;
  return { load: '0', proxy: last === 1 ? '1' : `1-${last}` };
}

/** Pin `pid` (all its threads; children forked later inherit it) to `cpus`. */
export function pin(pid, cpus) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
