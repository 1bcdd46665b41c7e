/** JwksCache with a fake clock and fetcher: bounded refetch, stale keys on failure, background refresh. */
import t from 'tap';
import pino from 'pino';
import { CredentialRejected } from '../../../../../src/worker/policies/auth/identity.js';
import { JwksCache } from '../../../../../src/worker/policies/auth/index.js';
import { signingKey } from '../../../../helpers/auth.js';

const logger = pino({ level: 'silent' });
const config = { url: 'http://idp.test/jwks.json', maxAgeMs: 10_000, minRefetchIntervalMs: 1_000, timeoutMs: 500 };

async function setup() {
  const k1 = await signingKey('k1');
  const k2 = await signingKey('k2');
  const clock = { now: 0 };
  const server = { keys: [k1.jwk], down: false, calls: 0 };
  const cache = new JwksCache(config, {
    logger,
    now: () => clock.now,
    fetch: async () => {
      server.calls++;
      if (server.down) throw new Error('connect ECONNREFUSED');
      return { keys: server.keys };
    },
  });
  const keyFor = (kid: string) => cache.getKey({ alg: 'RS256', kid }, { payload: '', signature: '' } as never);
  return { k1, k2, clock, server, cache, keyFor };
}

t.test('an unknown kid refetches at most once per minRefetchIntervalMs', async (t) => {
  const { k2, clock, server, keyFor } = await setup();
  t.ok(await keyFor('k1'), 'first use fetches');
  t.equal(server.calls, 1);
  clock.now = 2_000;
  for (let i = 0; i < 50; i++) await t.rejects(keyFor(`nope-${i}`), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  t.equal(server.calls, 2, '50 unknown kids within the interval: one refetch');
  server.keys = [k2.jwk];
  clock.now = 2_500;
  await t.rejects(keyFor('k2'), { code: 'ERR_JWKS_NO_MATCHING_KEY' }, 'rotation not visible before the interval passed');
  t.equal(server.calls, 2);
  clock.now = 3_001;
  t.ok(await keyFor('k2'), 'after the interval the rotated key is fetched');
  t.equal(server.calls, 3);
});

t.test('a failing endpoint keeps the cached keys; with none, keys are unavailable', async (t) => {
  const { clock, server, cache, keyFor } = await setup();
  await keyFor('k1');
  server.down = true;
  clock.now = 20_000; // past maxAgeMs: a background refresh starts and fails
  t.ok(await keyFor('k1'), 'stale key served while the refresh runs');
  await cache.prefetch();
  t.ok(await keyFor('k1'), 'and after it failed');
  t.ok(server.calls >= 2);

  const fresh = await setup();
  fresh.server.down = true;
  const err = await fresh.keyFor('k1').catch((e: unknown) => e);
  t.ok(err instanceof CredentialRejected && err.unavailable, 'no keys ever: unavailable (503), not invalid');
  t.equal(fresh.server.calls, 1);
  await fresh.keyFor('k1').catch(() => {});
  t.equal(fresh.server.calls, 1, 'no fetch storm while down');
  fresh.server.down = false;
  fresh.clock.now = 1_001;
  t.ok(await fresh.keyFor('k1'), 'recovers once the endpoint is back');
});

t.test('with no keys ever fetched, retries back off from 1 s to minRefetchIntervalMs, and say when', async (t) => {
  const k1 = await signingKey('k1');
  const clock = { now: 0 };
  const server = { down: true, calls: [] as number[] };
  const cache = new JwksCache({ ...config, minRefetchIntervalMs: 30_000 }, {
    logger,
    now: () => clock.now,
    fetch: async () => {
      server.calls.push(clock.now);
      if (server.down) throw new Error('connect ECONNREFUSED');
      return { keys: [k1.jwk] };
    },
  });
  const keyFor = () => cache.getKey({ alg: 'RS256', kid: 'k1' }, { payload: '', signature: '' } as never);
  const retryAfter: (number | null)[] = [];
  // A request every 250 ms for 20 s against an identity provider that is down.
  for (clock.now = 0; clock.now <= 20_000; clock.now += 250) {
    const err = await keyFor().catch((e: unknown) => e);
    t.ok(err instanceof CredentialRejected && err.unavailable);
    if (clock.now % 1_000 === 0) retryAfter.push((err as CredentialRejected).retryAfterS);
  }
  t.same(server.calls, [0, 1_000, 3_000, 7_000, 15_000], 'attempts 1, 2, 4, 8 s apart: no storm, no 30 s wait');
  t.same(retryAfter.slice(0, 4), [1, 2, 1, 4], 'the 503 says when the next attempt is due');
  server.down = false;
  clock.now = 31_000; // the next attempt is due 16 s after the last (31 s): it succeeds
  t.ok(await keyFor(), 'keys once the provider is back');
  clock.now = 32_000;
  t.ok(await keyFor());
  t.equal(server.calls.length, 6, 'then the cached keys serve');
});

t.test('a malformed document is a failed fetch', async (t) => {
  const clock = { now: 0 };
  const cache = new JwksCache(config, { logger, now: () => clock.now, fetch: async () => ({ keys: 'nope' }) });
  const err = await cache.getKey({ alg: 'RS256', kid: 'k1' }, { payload: '', signature: '' } as never).catch((e: unknown) => e);
  t.ok(err instanceof CredentialRejected && err.unavailable);
});
