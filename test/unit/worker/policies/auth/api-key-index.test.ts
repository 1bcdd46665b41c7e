/** The worker's API key index: verification outcomes and picking up file changes. */
import t from 'tap';
import { join } from 'node:path';
import pino from 'pino';
import { FileKeyRepository, generateApiKey, hashApiKey, type ApiKeyRecord } from '../../../../../src/common/api-keys/index.js';
import { ApiKeyIndex } from '../../../../../src/worker/policies/auth/index.js';
import { CredentialRejected } from '../../../../../src/worker/policies/auth/identity.js';
import { writeFileSync } from 'node:fs';

const PEPPER = 'p'.repeat(32);
const logger = pino({ level: 'silent' });

function record(id: string, key: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return { id, hash: hashApiKey(key, PEPPER), owner: 'team-a', roles: ['reader'], scopes: ['s1'], createdAt: '2026-01-01T00:00:00Z', expiresAt: null, revokedAt: null, rateLimit: { requests: 5, per: 'm' }, ...over };
}

const reason = (fn: () => unknown): string => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return err instanceof CredentialRejected ? err.reason : String(err);
  }
};

t.test('verify: valid, wrong secret, unknown, malformed, revoked, expired', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'k.json');
  const repo = new FileKeyRepository(file);
  const good = generateApiKey();
  const revoked = generateApiKey();
  const expired = generateApiKey();
  await repo.add(record(good.id, good.key));
  await repo.add(record(revoked.id, revoked.key, { revokedAt: '2026-01-02T00:00:00Z' }));
  await repo.add(record(expired.id, expired.key, { expiresAt: '2026-06-01T00:00:00Z' }));
  const index = new ApiKeyIndex(file, PEPPER, { logger, now: () => Date.parse('2026-07-01T00:00:00Z') });
  await index.check();
  t.equal(index.size, 3);
  const id = index.verify(good.key);
  t.same(id, { method: 'api-key', subject: 'team-a', roles: ['reader'], scopes: ['s1'], keyId: good.id, rateLimit: { requests: 5, per: 'm' } });
  t.match(reason(() => index.verify(`${good.key.slice(0, -1)}${good.key.endsWith('A') ? 'B' : 'A'}`)), /wrong secret/);
  t.match(reason(() => index.verify(generateApiKey().key)), /unknown API key id/);
  t.match(reason(() => index.verify('gwk_nope')), /malformed/);
  t.match(reason(() => index.verify(revoked.key)), /revoked/);
  t.match(reason(() => index.verify(expired.key)), /expired/);
  const nopepper = new ApiKeyIndex(file, null, { logger });
  await nopepper.check();
  t.match(reason(() => nopepper.verify(good.key)), /PEPPER not set/, 'no pepper: nothing verifies');
});

t.test('changes to the file are picked up; a corrupt file keeps the last good keys', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'k.json');
  const repo = new FileKeyRepository(file);
  const index = new ApiKeyIndex(file, PEPPER, { logger });
  await index.check();
  t.equal(index.size, 0, 'missing file: no keys');
  const k = generateApiKey();
  await repo.add(record(k.id, k.key));
  await index.check();
  t.equal(index.verify(k.key).keyId, k.id, 'a new key works after the next check');
  await repo.revoke(k.id, new Date());
  await index.check();
  t.match(reason(() => index.verify(k.key)), /revoked/, 'a revocation too');
  writeFileSync(file, '{ not json');
  await index.check();
  t.match(reason(() => index.verify(k.key)), /revoked/, 'corrupt file: last good records kept');
});

t.test('watch polls on its own', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'k.json');
  const index = new ApiKeyIndex(file, PEPPER, { logger });
  await index.watch(100);
  t.teardown(() => index.stop());
  const k = generateApiKey();
  await new FileKeyRepository(file).add(record(k.id, k.key));
  const deadline = Date.now() + 5000;
  while (index.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(index.size, 1, 'picked up without an explicit check');
});

t.test('a failed read is retried on the next check even when the file did not change', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'k.json');
  const repo = new FileKeyRepository(file);
  const k = generateApiKey();
  await repo.add(record(k.id, k.key));
  let fail = false;
  const index = new ApiKeyIndex(file, PEPPER, {
    logger,
    read: async (f) => {
      if (fail) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return (await import('node:fs/promises')).readFile(f, 'utf8');
    },
  });
  await index.check();
  t.equal(index.verify(k.key).keyId, k.id);
  await repo.revoke(k.id, new Date());
  fail = true;
  await index.check();
  t.equal(index.verify(k.key).keyId, k.id, 'read failed: the loaded keys stay');
  fail = false; // the operator fixes permissions: content, size and mtime are unchanged
  await index.check();
  t.match(reason(() => index.verify(k.key)), /revoked/, 'the next check reads the file and the revocation applies');
});

t.test('an expiresAt that does not parse counts as expired; roles with "," are dropped', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'k.json');
  const k = generateApiKey();
  const ok = generateApiKey();
  writeFileSync(file, JSON.stringify({ version: 1, keys: [record(k.id, k.key, { expiresAt: 'next tuesday' }), record(ok.id, ok.key, { roles: ['reader', 'admin,ops'], scopes: ['a,b', 's1'] })] }));
  const lines: string[] = [];
  const index = new ApiKeyIndex(file, PEPPER, { logger: pino({ level: 'error' }, { write: (l: string) => lines.push(l) }), now: () => Date.parse('2026-07-01T00:00:00Z') });
  await index.check();
  t.equal(index.size, 2);
  t.match(reason(() => index.verify(k.key)), /expired/, 'fails closed instead of never expiring');
  t.match(reason(() => index.verify(k.key)), /expired/);
  const id = index.verify(ok.key);
  t.same(id.roles, ['reader']);
  t.same(id.scopes, ['s1']);
  await index.check();
  t.equal(lines.filter((l) => l.includes('unparsable expiresAt')).length, 1, 'logged once, not per request or per poll');
  t.equal(lines.filter((l) => l.includes('roles/scopes containing')).length, 1);
});
