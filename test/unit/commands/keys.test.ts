/** `gateway keys` argument handling: durations, rate limits, usage errors (no process spawned). */
import t from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { UsageError } from '../../../src/common/index.js';
import { expiry, limitOf, runKeys, type KeysIo } from '../../../src/commands/keys.js';

const now = new Date('2026-01-01T00:00:00Z');

t.test('--expires: durations, ISO dates, never; the past and nonsense refused', async (t) => {
  t.equal(expiry('never', now), null);
  t.equal(expiry('90m', now), '2026-01-01T01:30:00.000Z');
  t.equal(expiry('30d', now), '2026-01-31T00:00:00.000Z');
  t.equal(expiry('2026-06-01', now), '2026-06-01T00:00:00.000Z');
  t.throws(() => expiry('2025-01-01', now), UsageError);
  t.throws(() => expiry('soon', now), /not a duration/);
  t.throws(() => expiry('0d', now), UsageError);
});

t.test('--rate-limit: N/unit, validated like a route limit', async (t) => {
  t.same(limitOf('100/m'), { requests: 100, per: 'm' });
  t.throws(() => limitOf('100'), /must look like 100\/m/);
  t.throws(() => limitOf('0/s'), UsageError);
  t.throws(() => limitOf('10/w'), UsageError);
});

t.test('runKeys: usage errors throw UsageError; create writes a record and prints the key once', async (t) => {
  const dir = t.testdir({});
  const out: string[] = [];
  const io = (env: Record<string, string>): KeysIo => ({ home: dir, env: { GATEWAY_STATE_DIR: dir, ...env }, out: (s) => void out.push(s), err: () => {}, loadEnv: () => {} });
  await t.rejects(runKeys(['create', '--owner', 'x'], io({})), /GATEWAY_API_KEY_PEPPER is not set/);
  await t.rejects(runKeys(['create'], io({ GATEWAY_API_KEY_PEPPER: 'p'.repeat(32) })), /--owner is required/);
  await t.rejects(runKeys(['create', '--owner', 'x', '--roles', 'a b'], io({ GATEWAY_API_KEY_PEPPER: 'p'.repeat(32) })), /--roles/);
  await t.rejects(runKeys(['frob'], io({})), /unknown keys command/);
  await t.rejects(runKeys(['revoke'], io({})), /usage: gateway keys revoke ID/);
  await t.rejects(runKeys(['list', '--bogus'], io({})), UsageError);
  t.equal(await runKeys(['--help'], io({})), 0);
  out.length = 0;
  t.equal(await runKeys(['create', '--owner', 'svc-a', '--scopes', 'x,y,x', '--rate-limit', '5/s'], io({ GATEWAY_API_KEY_PEPPER: 'p'.repeat(32) })), 0);
  const key = /^(gwk_\S+)$/m.exec(out.join(''))![1]!;
  const file = JSON.parse(readFileSync(join(dir, 'api-keys.json'), 'utf8')) as { keys: Record<string, unknown>[] };
  t.match(file.keys[0], { owner: 'svc-a', scopes: ['x', 'y'], roles: [], rateLimit: { requests: 5, per: 's' }, expiresAt: null, revokedAt: null });
  t.notOk(JSON.stringify(file).includes(key));
  out.length = 0;
  t.equal(await runKeys(['list'], io({})), 0);
  t.match(out.join(''), /ID\s+OWNER\s+STATUS[\s\S]*svc-a\s+active\s+-\s+x,y\s+never\s+5\/s/);
});
