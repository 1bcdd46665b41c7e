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
