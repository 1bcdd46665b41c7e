/** API key format, keyed hashing and the JSON file repository (atomic, 0600, no plaintext). */
import t from 'tap';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FileKeyRepository,
  apiKeyId,
  generateApiKey,
  hashApiKey,
  hashesEqual,
  keyStatus,
  pepperProblem,
  type ApiKeyRecord,
} from '../../../../src/common/api-keys/index.js';

const PEPPER = 'p'.repeat(32);

function record(id: string, key: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return { id, hash: hashApiKey(key, PEPPER), owner: 'team-a', roles: ['reader'], scopes: [], createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null, rateLimit: null, ...over };
}

t.test('keys: gwk_<id>_<secret>, id parsed back, malformed refused', async (t) => {
  const { id, key } = generateApiKey();
  t.match(key, /^gwk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  t.equal(apiKeyId(key), id);
  t.not(generateApiKey().key, key);
  for (const bad of ['', 'gwk_', `${key}x`, key.replace('gwk_', 'gwx_'), `gwk_${id.toUpperCase()}_${key.slice(-43)}`]) t.equal(apiKeyId(bad), null, JSON.stringify(bad));
});

t.test('hash: keyed by the pepper, compared in constant time', async (t) => {
  const { key } = generateApiKey();
  const h = hashApiKey(key, PEPPER);
  t.ok(hashesEqual(h, hashApiKey(key, PEPPER)));
  t.notOk(hashesEqual(h, hashApiKey(key, 'q'.repeat(32))), 'another pepper, another hash');
  // Always a different last character (setting it to a fixed one is a no-op 1 time in 64).
  const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
  t.notOk(hashesEqual(h, hashApiKey(tampered, PEPPER)), 'one character changed, another hash');
  t.notOk(hashesEqual(h, 'short'), 'unequal lengths are false, not a throw');
  t.match(pepperProblem(undefined), /GATEWAY_API_KEY_PEPPER is not set/);
  t.match(pepperProblem('short'), /at least 32/);
  t.equal(pepperProblem(PEPPER), null);
});

t.test('file repository: add, list, revoke; 0600; atomic; no plaintext key', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'sub', 'api-keys.json');
  const repo = new FileKeyRepository(file);
  t.same(await repo.list(), [], 'a missing file is an empty repository');
  const a = generateApiKey();
  const b = generateApiKey();
  await repo.add(record(a.id, a.key));
  await repo.add(record(b.id, b.key, { owner: 'team-b' }));
  await t.rejects(repo.add(record(a.id, a.key)), /exists already/);
  t.same((await repo.list()).map((r) => r.owner), ['team-a', 'team-b']);
  const text = readFileSync(file, 'utf8');
  t.notOk(text.includes(a.key) || text.includes(b.key), 'the file never holds a key');
  t.notOk(text.includes(a.key.slice(-43)), 'nor the secret part');
  t.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600');
  t.same(readdirSync(join(dir, 'sub')), ['api-keys.json'], 'no temp or lock file left behind');
  const revoked = await repo.revoke(a.id, new Date('2030-01-01T00:00:00Z'));
  t.equal(revoked?.revokedAt, '2030-01-01T00:00:00.000Z');
  t.equal(await repo.revoke('000000000000', new Date()), null, 'unknown id');
  t.equal(keyStatus((await repo.list())[0]!, Date.now()), 'revoked');
  t.equal(keyStatus(record('x', 'y', { expiresAt: '2000-01-01T00:00:00Z' }), Date.now()), 'expired');
  t.equal(keyStatus(record('x', 'y'), Date.now()), 'active');
});

t.test('file repository: a corrupt file is an error, never silently empty', async (t) => {
  const dir = t.testdir({ 'k.json': '{"version":1,"keys":[{"id":1}]}' });
  await t.rejects(new FileKeyRepository(join(dir, 'k.json')).list(), /keys\[0\] is malformed/);
  writeFileSync(join(dir, 'k.json'), '{"keys":[]}');
  await t.rejects(new FileKeyRepository(join(dir, 'k.json')).list(), /not an API key file/);
});

t.test('concurrent writers serialize on the lock: no update is lost', async (t) => {
  const dir = t.testdir({});
  const repo = new FileKeyRepository(join(dir, 'k.json'));
  const keys = Array.from({ length: 8 }, () => generateApiKey());
  await Promise.all(keys.map((k) => new FileKeyRepository(join(dir, 'k.json')).add(record(k.id, k.key))));
  t.equal((await repo.list()).length, 8);
});
