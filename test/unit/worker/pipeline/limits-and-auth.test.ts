/**
 * Rate limits around authentication: address- and header-keyed limits are charged before
 * auth (so failed authentications are limited too), identity-keyed ones after it.
 */
import t from 'tap';
import { request } from 'undici';
import { startJwksServer } from '../../../doubles/jwks-server.js';
import { authConfig, provider, signingKey, startAuthGateway, token } from '../../../helpers/auth.js';
import { route, service, snapshot } from '../../../helpers/snapshot.js';
import { startUpstream } from '../../../helpers/upstream.js';

t.test('ip limits count failed authentications; subject limits apply per identity after auth', async (t) => {
  const k1 = await signingKey('k1');
  const jwks = await startJwksServer([k1.jwk]);
  const up = await startUpstream();
  t.teardown(() => Promise.all([jwks.close(), up.close()]));
  const auth = { methods: ['jwt:idp'], roles: [], scopes: [] };
  const snap = snapshot(
    [service('s', [up.url])],
    [
      route('guarded', ['/guarded'], 's', { auth, rateLimits: [{ requests: 3, per: 'm', key: 'ip' }] }),
      route('per-user', ['/per-user'], 's', { auth, rateLimits: [{ requests: 1, per: 'm', key: 'subject' }] }),
    ],
  );
  const gw = await startAuthGateway({
    ...snap,
    auth: authConfig({ jwt: [provider({ jwks: { url: jwks.url, maxAgeMs: 600_000, minRefetchIntervalMs: 30_000, timeoutMs: 2000 } })] }),
  });
  t.teardown(() => gw.close());
  const call = async (path: string, authorization: string) => {
    const res = await request(`${gw.url}${path}`, { headers: { authorization } });
    await res.body.dump();
    return { status: res.statusCode, headers: res.headers };
  };
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await call('/guarded', 'Bearer not-a-token')).status);
  t.same(statuses, [401, 401, 401, 429, 429], 'guessing credentials spends the ip budget');
  const limited = await call('/guarded', `Bearer ${await token(k1, { sub: 'alice' })}`);
  t.equal(limited.status, 429, 'a valid token from the same address is limited too');
  t.equal(up.seen.length, 0);

  const alice = `Bearer ${await token(k1, { sub: 'alice' })}`;
  const bob = `Bearer ${await token(k1, { sub: 'bob' })}`;
  const first = await call('/per-user', alice);
  t.equal(first.status, 200);
  t.equal(first.headers['x-ratelimit-limit'], '1', 'the subject limit reports its headers');
  t.equal((await call('/per-user', alice)).status, 429, 'alice spent her budget');
  t.equal((await call('/per-user', bob)).status, 200, 'bob has his own');
  t.equal((await call('/per-user', 'Bearer not-a-token')).status, 401, 'no identity: 401, no subject bucket charged');
});

t.test('a route that requires auth is never served without an auth policy (fail closed)', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const { startInProcess } = await import('../../../helpers/in-process-gateway.js');
  const gw = await startInProcess(snapshot([service('s', [up.url])], [route('r', ['/r'], 's', { auth: { methods: ['jwt:idp'], roles: [], scopes: [] } })]));
  t.teardown(() => gw.close());
  const res = await request(`${gw.url}/r`);
  t.equal(res.statusCode, 500);
  t.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'GW_INTERNAL');
  t.equal(up.seen.length, 0);
});
