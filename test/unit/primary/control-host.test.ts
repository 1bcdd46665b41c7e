import t from 'tap';
import { join } from 'node:path';
import pino from 'pino';
import { ControlHost } from '../../../src/primary/index.js';
import { ROOT } from '../../helpers/repo.js';
import { waitFor } from '../../helpers/net.js';

t.test('a crashing control thread is restarted; the pending request fails, the next one succeeds', async (t) => {
  const dir = t.testdir({});
  const lines: string[] = [];
  const host = new ControlHost({
    entry: join(ROOT, 'test/fixtures/crashing-thread.mjs'),
    workerData: { crashOnceFile: join(dir, 'crashed') },
    logger: pino({}, { write: (l: string) => void lines.push(l) }),
    baseBackoffMs: 10,
  });
  host.start();
  t.teardown(() => host.stop());
  await t.rejects(host.loadConfig(1, 'start'), /control thread exited/);
  await waitFor(() => host.restarts === 1, 5_000);
  const answer = await waitFor(() => host.loadConfig(2, 'reload').catch(() => null), 5_000);
  t.match(answer, { type: 'config-invalid', version: 2 });
  t.ok(lines.some((l) => l.includes('control thread exited; restarting it')));
});
