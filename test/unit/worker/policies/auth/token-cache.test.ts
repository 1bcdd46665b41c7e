/** The verified-token cache: bounded LRU, never past exp or maxAge, keyed by hash. */
import t from 'tap';
import { createHash } from 'node:crypto';
import { TokenCache } from '../../../../../src/worker/policies/auth/index.js';

const id = (subject: string) => ({ method: 'jwt:idp', subject, roles: [], scopes: [], keyId: null, rateLimit: null });

t.test('entries expire at exp and at maxAge, whichever is first', async (t) => {
  const clock = { now: 1_000_000 };
  const cache = new TokenCache(10, { maxAgeMs: 60_000, now: () => clock.now });
  cache.set('a', id('a'), 1_000 + 30); // exp 30 s from now
  cache.set('b', id('b'), 1_000 + 3600);
  clock.now += 29_999;
  t.equal(cache.get('a')?.subject, 'a');
  clock.now += 1;
  t.equal(cache.get('a'), null, 'not served at exp');
  t.equal(cache.get('b')?.subject, 'b');
  clock.now = 1_000_000 + 60_000;
  t.equal(cache.get('b'), null, 'not served past maxAge');
  cache.set('c', id('c'), 999); // already expired
  t.equal(cache.get('c'), null);
});

t.test('bounded: the least recently used entry goes first', async (t) => {
  const cache = new TokenCache(2);
  cache.set('a', id('a'), undefined);
  cache.set('b', id('b'), undefined);
  cache.get('a');
  cache.set('c', id('c'), undefined);
  t.equal(cache.size, 2);
  t.equal(cache.get('b'), null, 'b was least recently used');
  t.ok(cache.get('a'));
  t.ok(cache.get('c'));
  const off = new TokenCache(0);
  off.set('a', id('a'), undefined);
  t.equal(off.size, 0, 'size 0 disables it');
});

t.test('keys are hashes, never the token', async (t) => {
  const key = TokenCache.keyOf('idp', 'eyJhbGciOi.secret.token');
  t.notMatch(key, /secret/);
  t.not(key, TokenCache.keyOf('other', 'eyJhbGciOi.secret.token'), 'per provider');
  // A cryptographic hash: a token crafted to collide with a cached one must be infeasible.
  t.equal(key, `idp\n${createHash('sha256').update('eyJhbGciOi.secret.token').digest('base64url')}`, 'SHA-256 of the token');
});
