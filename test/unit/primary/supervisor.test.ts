/**
 * Supervisor reload edges with stand-in workers (test/fixtures/fake-worker.mjs): a reload
 * whose new worker dies before it is ready is abandoned without a respawn, unless the
 * worker it was to replace died meanwhile, in which case the slot must still be served.
 */
import t from 'tap';
import { Supervisor } from '../../../src/primary/supervisor.js';
import type { ConfigSnapshot } from '../../../src/ipc/index.js';
import { resolve } from 'node:path';
import { ROOT } from '../../helpers/repo.js';
import { sleep, waitFor } from '../../helpers/net.js';

type Line = { level: string; msg: string } & Record<string, unknown>;

function setup(t: Tap) {
  const logs: Line[] = [];
  const at = (level: string) => (obj: object, msg: string) => void logs.push({ level, msg, ...obj });
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), debug: at('debug') };
  const sup = new Supervisor({ workerEntry: resolve(ROOT, 'test/fixtures/fake-worker.mjs'), logger: logger as never, readyTimeoutMs: 5_000, baseBackoffMs: 100 });
  // Shut down (not kill: a killed worker would be respawned) and wait for every exit.
  t.teardown(() => sup.shutdown());
  return { sup, logs };
}
type Tap = { teardown(fn: () => unknown): void };

/** A snapshot as far as the supervisor and the stand-in read it; `crashSlots` fail to start. */
const snap = (version: number, workers = 1, crashSlots: number[] = []) =>
  ({ version, crashSlots, server: { workers, timeouts: { drainMs: 100 } } }) as unknown as ConfigSnapshot;

t.test('a new worker that dies before ready: the reload is abandoned, the old worker serves, nothing respawns', async (t) => {
  const { sup, logs } = setup(t);
  t.equal(await sup.start(snap(1)), 1);
  const [oldPid] = sup.pids;
  t.equal(await sup.reload(snap(2, 1, [0])), false);
  await sleep(300); // past the 100 ms respawn backoff
  t.same(sup.pids, [oldPid], 'the old worker keeps its slot');
  t.equal(sup.respawns, 0);
  t.ok(logs.some((l) => l.msg === 'new worker exited before it was ready'));
  t.notOk(logs.some((l) => l.msg === 'worker died; respawning'), 'not reported as a crash');
});

t.test('the old worker dies while its replacement starts, then the replacement dies too: the slot is respawned', async (t) => {
  const { sup, logs } = setup(t);
  await sup.start(snap(1));
  const [oldPid] = sup.pids;
  const reload = sup.reload(snap(2, 1, [0]));
  setTimeout(() => process.kill(oldPid!, 'SIGKILL'), 100); // an OOM kill during the reload
  t.equal(await reload, false);
  const pid = await waitFor(() => (sup.readyWorkers.length === 1 ? sup.pids[0] : null), 5_000);
  t.not(pid, oldPid, 'a fresh worker serves the slot (with the config that was serving)');
  t.equal(sup.respawns, 1);
  t.ok(logs.some((l) => l.msg === 'worker died while its replacement was starting' && l.workerPid === oldPid), 'the old worker\'s death is logged');
  t.ok(logs.some((l) => l.msg === 'worker died; respawning'), 'the replacement\'s death is a crash to respawn');
});

t.test('a reload that adds a slot whose new worker dies: the slot is dropped, not respawned', async (t) => {
  const { sup, logs } = setup(t);
  await sup.start(snap(1));
  const [first] = sup.pids;
  t.equal(await sup.reload(snap(2, 2, [1])), false, 'slot 0 took the new config, the added slot 1 failed');
  await sleep(300);
  t.equal(sup.pids.length, 1, 'back to the one slot that serves');
  t.not(sup.pids[0], first, 'slot 0 was replaced');
  t.equal(sup.readyWorkers.length, 1);
  t.equal(sup.respawns, 0);
  t.notOk(logs.some((l) => l.msg === 'worker died; respawning'));
  t.ok(logs.some((l) => /the slots this reload added are dropped/.test(l.msg)));
});
