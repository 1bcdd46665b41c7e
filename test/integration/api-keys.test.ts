/**
 * API keys end to end: `gateway keys create` (the real CLI) makes a key that a real
 * gateway process (2 workers) accepts; `revoke` and expiry stop it without restart; the
 * stored file holds no plaintext; the audit log records creation, revocation, refusals
 * and reloads.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { FileKeyRepository, generateApiKey, hashApiKey } from '../../src/common/api-keys/index.js';
import { startGateway, testConfig } from '../helpers/gateway-process.js';
import { startUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/net.js';
import { CLI, ROOT } from '../helpers/repo.js';

const PEPPER = 'integration-test-pepper-0123456789abcdef';

t.test('create → works, list, revoke → refused within refreshMs, expiry, audit trail', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway(
    (port) => ({
      ...(testConfig(port, [{ name: 's', instances: [{ url: up.url }] }], [
        { id: 'r', path: '/r', service: 's', auth: { methods: ['api-key'] } },
        { id: 'admin', path: '/admin', service: 's', auth: { roles: ['admin'] } },
      ]) as object),
      auth: { apiKeys: { refreshMs: 200 } },
    }),
    { env: { GATEWAY_API_KEY_PEPPER: PEPPER } },
  );
  t.teardown(() => gw.stop('SIGKILL'));
  const keys = (args: string[], env: Record<string, string> = { GATEWAY_API_KEY_PEPPER: PEPPER }) => {
    const r = spawnSync(process.execPath, [CLI, 'keys', ...args], {
      cwd: ROOT,
      env: { ...process.env, GATEWAY_STATE_DIR: gw.stateDir, GATEWAY_ENV: '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const agent = new Agent({ pipelining: 0 });
  t.teardown(() => agent.close());
  const call = async (path: string, key: string) => {
    const res = await request(`${gw.url}${path}`, { headers: { 'x-api-key': key }, dispatcher: agent, reset: true });
    const body = (await res.body.json()) as { error?: { code: string; message: string } };
    return { status: res.statusCode, code: body.error?.code ?? null, message: body.error?.message ?? null };
  };

  // Fresh connections alternate between the 2 workers: 4 in a row means both see it.
  const everywhere = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 4; i++) if (!(await check())) return false;
    return true;
  };

  const noPepper = keys(['create', '--owner', 'x'], { GATEWAY_API_KEY_PEPPER: '' });
  t.equal(noPepper.code, 2, 'create refuses to run without the pepper');
  t.match(noPepper.stderr, /GATEWAY_API_KEY_PEPPER is not set/);

  const created = keys(['create', '--owner', 'team-a', '--roles', 'reader,admin', '--scopes', 'orders:read', '--expires', '30d']);
  t.equal(created.code, 0, created.stderr);
  const key = /^(gwk_\S+)$/m.exec(created.stdout)?.[1];
  t.ok(key, 'the key is printed');
  const id = key!.slice(4, 16);
  t.match(created.stdout, new RegExp(`created API key ${id} for team-a, expires \\d{4}-`));

  // Workers poll the key file every 200 ms: the new key works without reload.
  await waitFor(() => everywhere(async () => (await call('/r', key!)).status === 200), 10_000, 50);
  t.equal((await call('/admin', key!)).status, 200, 'roles from the key record');
  t.equal(up.seen.at(-1)!.headers['x-auth-key-id'], id);
  t.equal(up.seen.at(-1)!.headers['x-auth-subject'], 'team-a');

  const file = join(gw.stateDir, 'api-keys.json');
  const stored = readFileSync(file, 'utf8');
  t.notOk(stored.includes(key!), 'the stored file has no plaintext key');
  t.notOk(stored.includes(key!.slice(17)), 'nor its secret part');
  t.ok(stored.includes(hashApiKey(key!, PEPPER)), 'only the keyed hash');
  t.equal(statSync(file).mode & 0o777, 0o600);

  const listed = keys(['list']);
  t.equal(listed.code, 0);
  t.match(listed.stdout, new RegExp(`${id}\\s+team-a\\s+active\\s+reader,admin\\s+orders:read`));
  const json = JSON.parse(keys(['list', '--json']).stdout) as Record<string, unknown>[];
  t.equal(json.length, 1);
  t.notOk('hash' in json[0]!, 'list never shows the hash');

  const revoked = keys(['revoke', id]);
  t.equal(revoked.code, 0, revoked.stderr);
  await waitFor(() => everywhere(async () => (await call('/r', key!)).status === 401), 10_000, 50);
  t.match(await call('/r', key!), { status: 401, code: 'GW_INVALID_CREDENTIALS', message: 'API key revoked' });
  t.match(keys(['list']).stdout, new RegExp(`${id}\\s+team-a\\s+revoked`));
  t.equal(keys(['revoke', '000000000000']).code, 1, 'revoking an unknown id fails');
  const again = keys(['revoke', id]);
  t.equal(again.code, 0, 'revoking twice is no error');
  t.match(again.stdout, new RegExp(`^${id} \\(owner team-a\\) was already revoked at ${revoked.stdout.match(/ at (\S+)$/m)![1]}`), 'and says when the first revocation was');

  // An expired record (written directly: the CLI refuses past dates).
  const old = generateApiKey();
  await new FileKeyRepository(file).add({
    id: old.id, hash: hashApiKey(old.key, PEPPER), owner: 'old', roles: [], scopes: [],
    createdAt: '2020-01-01T00:00:00Z', expiresAt: '2020-02-01T00:00:00Z', revokedAt: null, rateLimit: null,
  });
  await waitFor(() => everywhere(async () => (await call('/r', old.key)).message === 'API key expired'), 10_000, 50);
  t.pass('an expired key is refused');

  gw.child.kill('SIGHUP');
  const audit = join(gw.stateDir, 'audit.log');
  const records = await waitFor(() => {
    let text = '';
    try {
      text = readFileSync(audit, 'utf8');
    } catch {
      return null;
    }
    const recs = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    return recs.some((r) => r.event === 'config.reload') ? recs : null;
  }, 20_000, 100) as Record<string, unknown>[];
  t.match(records.find((r) => r.event === 'apikey.created'), { role: 'cli', keyId: id, owner: 'team-a', roles: ['reader', 'admin'] });
  t.match(records.find((r) => r.event === 'apikey.revoked'), { role: 'cli', keyId: id });
  t.equal(records.filter((r) => r.event === 'apikey.revoked').length, 1, 'the second revoke added no audit record');
  t.match(records.find((r) => r.event === 'auth.failure' && r.reason === `API key ${id} revoked`), { role: 'worker', route: 'r', status: 401, client: '127.0.0.1' });
  t.match(records.find((r) => r.event === 'config.reload'), { role: 'primary', result: 'applied' });
  t.notOk(readFileSync(audit, 'utf8').includes(key!), 'the audit log never holds a key');
  t.equal(statSync(audit).mode & 0o777, 0o600);
});
