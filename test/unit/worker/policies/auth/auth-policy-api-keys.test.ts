/**
 * API keys through the data plane (in-process): the three places a key may be, credential
 * stripping upstream, RBAC with key roles/scopes, and per-key rate limits.
 */
import t from 'tap';
import { join } from 'node:path';
import { request } from 'undici';
import { FileKeyRepository, generateApiKey, hashApiKey, type ApiKeyRecord } from '../../../../../src/common/api-keys/index.js';
import { authConfig, startAuthGateway } from '../../../../helpers/auth.js';
import { route, service, snapshot } from '../../../../helpers/snapshot.js';
import { startUpstream } from '../../../../helpers/upstream.js';

const PEPPER = 'p'.repeat(32);

async function setup(t: { testdir(c?: Record<string, string>): string; teardown(fn: () => unknown): void }, records: (k: ReturnType<typeof generateApiKey>) => Partial<ApiKeyRecord>[]) {
  const dir = t.testdir({});
  const file = join(dir, 'keys.json');
  const repo = new FileKeyRepository(file);
  const keys: string[] = [];
  for (const over of records(generateApiKey())) {
    const k = generateApiKey();
    keys.push(k.key);
    await repo.add({ id: k.id, hash: hashApiKey(k.key, PEPPER), owner: 'team', roles: [], scopes: [], createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null, rateLimit: null, ...over });
  }
  const up = await startUpstream();
  t.teardown(() => up.close());
  const snap = snapshot([service('s', [up.url])], [
    route('any', ['/any'], 's', { auth: { methods: ['api-key'], roles: [], scopes: [] } }),
    route('admin', ['/admin'], 's', { auth: { methods: ['api-key'], roles: ['admin'], scopes: [] } }),
    route('limited', ['/limited'], 's', { auth: { methods: ['api-key'], roles: [], scopes: [] }, rateLimits: [{ requests: 100, per: 'm', key: 'api-key' }] }),
    route('open', ['/open'], 's'),
  ]);
  const gw = await startAuthGateway(
    { ...snap, auth: authConfig({ apiKeys: { header: 'x-api-key', queryParam: 'api_key', refreshMs: 60_000 } }) },
    { apiKeysFile: file, pepper: PEPPER },
  );
  t.teardown(() => gw.close());
  return { gw, up, keys };
}

t.test('a key works from Authorization, X-API-Key or the query; the key never reaches upstream', async (t) => {
  const { gw, up, keys } = await setup(t, () => [{ owner: 'team-a', roles: ['reader'] }]);
  const key = keys[0]!;
  const status = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${gw.url}${path}`, { headers });
    await res.body.dump();
    return res.statusCode;
  };
  t.equal(await status('/any', { authorization: `Bearer ${key}` }), 200);
  t.equal(await status('/any', { 'x-api-key': key }), 200);
  t.equal(await status(`/any?x=1&api_key=${key}&y=2`), 200);
  t.equal(await status(`/any?api_key=${key}`), 200);
  t.equal(up.seen.length, 4);
  for (const seen of up.seen) {
    t.notOk(JSON.stringify(seen).includes(key), 'no trace of the key upstream');
    t.equal(seen.headers['x-auth-key-id'], key.slice(4, 16));
    t.equal(seen.headers['x-auth-subject'], 'team-a');
    t.equal(seen.headers['x-auth-method'], 'api-key');
    t.equal(seen.headers['x-auth-roles'], 'reader');
  }
  t.equal(up.seen[2]!.url, '/any?x=1&y=2', 'the query parameter is stripped, the rest kept in order');
  t.equal(up.seen[3]!.url, '/any', 'an emptied query string disappears');
  const logged = gw.logs.filter((l) => l.msg === 'request' && l.path === '/any');
  t.equal(logged.length, 4);
  for (const l of logged) {
    t.match(l, { auth: 'api-key', subject: 'team-a', keyId: key.slice(4, 16), client: '127.0.0.1', host: /^127\.0\.0\.1:\d+$/ }, 'the access log says who called, from where, for which host');
  }
  await status(`/open?api_key=${key}`, { 'x-api-key': key });
  t.equal(up.seen[4]!.url, '/open', 'stripped on routes without auth too');
  t.notOk(up.seen[4]!.headers['x-api-key']);
  await status('/open', { authorization: `Bearer ${key}`, X_API_KEY: key });
  t.notOk(JSON.stringify(up.seen[5]!).includes(key), 'Authorization: Bearer gwk_… and X_API_KEY stripped on a route without auth');
  await status('/open', { authorization: 'Basic dXNlcjpwYXNz' });
  t.equal(up.seen[6]!.headers.authorization, 'Basic dXNlcjpwYXNz', 'other Authorization schemes are left for the upstream');
  t.equal(await status(`/any?api_key=${key}&api_key=${key}`), 401, 'a repeated key parameter is refused');
  t.equal(await status('/any', { 'x-api-key': `${key.slice(0, -2)}xx` }), 401, 'a wrong secret');
  t.equal(await status('/any', { 'x-api-key': 'nonsense' }), 401);
  t.equal(await status('/any'), 401);
  t.equal(up.seen.length, 7, 'no refused request reached the upstream');
  t.notOk(gw.logs.some((l) => l.msg === 'request' && l.status === 401 && 'subject' in l), 'a refused request names no subject');
});

t.test('RBAC with key roles: 403 without the role, 200 with it', async (t) => {
  const { gw, keys } = await setup(t, () => [{ roles: ['reader'] }, { roles: ['admin'] }]);
  const call = async (key: string) => {
    const res = await request(`${gw.url}/admin`, { headers: { 'x-api-key': key } });
    const body = (await res.body.json()) as { error?: { code: string } };
    return [res.statusCode, body.error?.code ?? null];
  };
  t.same(await call(keys[0]!), [403, 'GW_FORBIDDEN']);
  t.same(await call(keys[1]!), [200, null]);
  await gw.audit.flush();
  const denied = gw.sink.records.find((r) => r.event === 'auth.forbidden');
  t.match(denied, { route: 'admin', keyId: keys[0]!.slice(4, 16), status: 403 }, 'the refusal is audited with the key id');
});

t.test("a key's own rate limit replaces the route's api-key limit, and applies where the route has none", async (t) => {
  const { gw, up, keys } = await setup(t, () => [{ rateLimit: { requests: 2, per: 'm' } }, {}]);
  const status = async (path: string, key: string) => {
    const res = await request(`${gw.url}${path}`, { headers: { 'x-api-key': key } });
    await res.body.dump();
    return res.statusCode;
  };
  t.same([await status('/limited', keys[0]!), await status('/limited', keys[0]!), await status('/limited', keys[0]!)], [200, 200, 429], '2/m, not the route 100/m');
  t.same([await status('/limited', keys[1]!), await status('/limited', keys[1]!), await status('/limited', keys[1]!)], [200, 200, 200], 'another key: its own bucket, the route limit');
  t.same([await status('/any', keys[0]!), await status('/any', keys[0]!), await status('/any', keys[0]!)], [200, 200, 429], 'a route without limits still holds the key to its limit');
  t.equal(up.seen.length, 7);
});
