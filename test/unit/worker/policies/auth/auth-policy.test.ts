/**
 * JWT authentication end to end through the data plane (real sockets, in-process): the
 * attack table is refused with 401 before any upstream sees it; valid tokens pass with
 * the identity forwarded; keys rotate at the JWKS without restart; a JWKS outage keeps
 * the cached keys; roles/scopes give 403; spoofed identity headers never reach upstream.
 */
import t from 'tap';
import { exportSPKI, SignJWT } from 'jose';
import { request } from 'undici';
import { startJwksServer } from '../../../../doubles/jwks-server.js';
import { authConfig, provider, signRawRs256, signingKey, startAuthGateway, token, ISSUER } from '../../../../helpers/auth.js';
import { route, service, snapshot } from '../../../../helpers/snapshot.js';
import { startUpstream } from '../../../../helpers/upstream.js';
import { waitFor } from '../../../../helpers/net.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

t.test('JWT attack table: every case 401, upstream sees nothing; valid tokens pass', async (t) => {
  const k1 = await signingKey('k1');
  const other = await signingKey('k-other');
  const jwks = await startJwksServer([k1.jwk]);
  t.teardown(() => jwks.close());
  const up = await startUpstream();
  t.teardown(() => up.close());
  const snap = snapshot([service('s', [up.url])], [route('r', ['/r'], 's', { auth: { methods: ['jwt:idp'], roles: [], scopes: [] } })], {});
  const gw = await startAuthGateway({
    ...snap,
    auth: authConfig({ jwt: [provider({ jwks: { url: jwks.url, maxAgeMs: 600_000, minRefetchIntervalMs: 30_000, timeoutMs: 2000 } })] }),
  });
  t.teardown(() => gw.close());
  const call = async (authorization: string | null) => {
    const res = await request(`${gw.url}/r`, { headers: authorization === null ? {} : { authorization } });
    const body = (await res.body.json()) as { error?: { code: string; message: string } };
    return { status: res.statusCode, challenge: res.headers['www-authenticate'] as string | undefined, body };
  };
  const now = Math.floor(Date.now() / 1000);
  const pem = await exportSPKI(k1.publicKey);
  const confused = await new SignJWT({ iss: ISSUER, aud: 'api', sub: 'mallory', exp: now + 300 })
    .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
    .sign(new TextEncoder().encode(pem));
  const confusedJwk = await new SignJWT({ iss: ISSUER, aud: 'api', sub: 'mallory', exp: now + 300 })
    .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
    .sign(new TextEncoder().encode(JSON.stringify(k1.jwk)));
  const valid = await token(k1, { sub: 'eve' });
  const [h, p] = valid.split('.');
  const tamperedPayload = `${h}.${b64({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'admin' })}.${valid.split('.')[2]}`;
  const flipped = valid.slice(0, -4) + (valid.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const k1rs384 = await signingKey('k1', 'RS384');

  const cases: [string, string | null, string][] = [
    ['no credentials', null, 'GW_UNAUTHENTICATED'],
    ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: 'api', sub: 'mallory', exp: now + 300 })}.`, 'GW_INVALID_CREDENTIALS'],
    ['alg none with kid', `Bearer ${b64({ alg: 'none', kid: 'k1' })}.${b64({ iss: ISSUER, aud: 'api', sub: 'mallory', exp: now + 300 })}.`, 'GW_INVALID_CREDENTIALS'],
    ['HS256 signed with the RSA public key (PEM)', `Bearer ${confused}`, 'GW_INVALID_CREDENTIALS'],
    ['HS256 signed with the RSA public key (JWK)', `Bearer ${confusedJwk}`, 'GW_INVALID_CREDENTIALS'],
    ['algorithm outside the allowlist (RS384)', `Bearer ${await token(k1rs384)}`, 'GW_INVALID_CREDENTIALS'],
    ['expired', `Bearer ${await token(k1, { exp: now - 60 })}`, 'GW_INVALID_CREDENTIALS'],
    ['not yet valid', `Bearer ${await token(k1, { nbf: now + 120 })}`, 'GW_INVALID_CREDENTIALS'],
    ['wrong issuer', `Bearer ${await token(k1, { iss: 'https://evil.test' })}`, 'GW_INVALID_CREDENTIALS'],
    ['wrong audience', `Bearer ${await token(k1, { aud: 'other' })}`, 'GW_INVALID_CREDENTIALS'],
    ['no exp', `Bearer ${await token(k1, { exp: undefined })}`, 'GW_INVALID_CREDENTIALS'],
    ['unknown kid', `Bearer ${await token(other)}`, 'GW_INVALID_CREDENTIALS'],
    ['known kid, other key', `Bearer ${await token({ ...other, kid: 'k1' })}`, 'GW_INVALID_CREDENTIALS'],
    ['tampered payload', `Bearer ${tamperedPayload}`, 'GW_INVALID_CREDENTIALS'],
    ['tampered signature', `Bearer ${flipped}`, 'GW_INVALID_CREDENTIALS'],
    ['unknown crit header', `Bearer ${await signRawRs256(k1, { alg: 'RS256', kid: 'k1', crit: ['x-must-understand'], 'x-must-understand': true }, { iss: ISSUER, aud: 'api', sub: 'mallory', exp: now + 300 })}`, 'GW_INVALID_CREDENTIALS'],
    ['raw-signed control token passes the same path', `Bearer ${await signRawRs256(k1, { alg: 'RS256', kid: 'k1' }, { iss: ISSUER, aud: 'api', sub: 'ok', exp: now + 300 })}`, 'PASS'],
    ['oversize token', `Bearer ${await token(k1, { pad: 'x'.repeat(5000) })}`, 'GW_INVALID_CREDENTIALS'],
    ['garbage', 'Bearer not-a-jwt', 'GW_INVALID_CREDENTIALS'],
    ['two Authorization headers are one too many', null, 'GW_INVALID_CREDENTIALS'],
  ];
  for (const [name, authorization, code] of cases) {
    if (code === 'PASS') continue;
    if (name.startsWith('two Authorization')) {
      const res = await request(`${gw.url}/r`, { headers: ['authorization', `Bearer ${valid}`, 'authorization', 'Bearer other'] });
      const body = (await res.body.json()) as { error: { code: string } };
      t.equal(res.statusCode, 401, name);
      t.equal(body.error.code, code, name);
      continue;
    }
    const r = await call(authorization);
    t.equal(r.status, 401, name);
    t.equal(r.body.error?.code, code, `${name}: ${code}`);
    if (code === 'GW_UNAUTHENTICATED') t.equal(r.challenge, 'Bearer realm="gateway"', `${name}: challenge without error code (RFC 6750 §3.1)`);
    else t.match(r.challenge, /^Bearer realm="gateway", error="invalid_token", error_description="[^"]+"$/, `${name}: invalid_token challenge`);
  }
  t.equal(up.seen.length, 0, 'the upstream received none of the refused requests');
  // The crit case is refused for its crit header, not for how it was signed:
  t.equal((await call(cases.find((c) => c[2] === 'PASS')![1])).status, 200, 'the same hand-signed token without crit passes');
  up.seen.length = 0;
  t.equal((await call(`Bearer ${await token(k1, { exp: now - 60 })}`)).body.error?.message, 'token expired', 'expiry is said plainly (clients refresh on it)');

  const ok = await call(`Bearer ${await token(k1, { sub: 'eve', scope: 'read write', realm_access: { roles: ['ops'] } })}`);
  t.equal(ok.status, 200, 'a valid token passes');
  t.equal(up.seen.length, 1);
  const seen = up.seen[0]!.headers;
  t.equal(seen['x-auth-subject'], 'eve');
  t.equal(seen['x-auth-roles'], 'ops');
  t.equal(seen['x-auth-scopes'], 'read write');
  t.equal(seen['x-auth-method'], 'jwt:idp');
  t.match(seen.authorization, /^Bearer /, 'the JWT itself is forwarded');
  t.equal((await call(`Bearer ${await token(k1, { nbf: now + 3 })}`)).status, 200, 'nbf within the clock tolerance passes');

  await gw.audit.flush();
  const failures = gw.sink.records.filter((r) => r.event === 'auth.failure');
  t.ok(failures.length >= cases.length, 'each refusal is in the audit log');
  t.ok(failures.length > 0 && failures.every((r) => r.route === 'r' && typeof r.reason === 'string'), 'each names the route and a reason');
  t.match(await gw.metrics(), /gateway_auth_decisions_total\{route="r",result="invalid"\} \d+/);
});

t.test('JWKS rotation is picked up without restart; a JWKS outage keeps the cached keys', async (t) => {
  const k1 = await signingKey('k1');
  const k2 = await signingKey('k2');
  const jwks = await startJwksServer([k1.jwk]);
  t.teardown(() => jwks.close());
  const up = await startUpstream();
  t.teardown(() => up.close());
  const snap = snapshot([service('s', [up.url])], [route('r', ['/r'], 's', { auth: { methods: ['jwt:idp'], roles: [], scopes: [] } })]);
  const gw = await startAuthGateway({
    ...snap,
    auth: authConfig({ tokenCacheSize: 0, jwt: [provider({ jwks: { url: jwks.url, maxAgeMs: 600_000, minRefetchIntervalMs: 100, timeoutMs: 1000 } })] }),
  });
  t.teardown(() => gw.close());
  const status = async (tok: string) => {
    const res = await request(`${gw.url}/r`, { headers: { authorization: `Bearer ${tok}` } });
    await res.body.dump();
    return res.statusCode;
  };
  t.equal(await status(await token(k1)), 200, 'k1 from the first fetch');
  jwks.setKeys([k2.jwk]);
  // The refetch for an unknown kid is rate-limited (100 ms here): poll until it happened.
  await waitFor(async () => (await status(await token(k2))) === 200, 5000, 50);
  t.pass('k2 accepted after the identity provider rotated to it');

  // (The refetch rate bound itself is pinned with a fake clock in jwks-cache.test.ts.)
  const before = jwks.fetches;
  jwks.setDown('503');
  const stranger = await signingKey('stranger');
  await waitFor(async () => (await status(await token(stranger))) === 401 && jwks.fetches > before, 5000, 50);
  t.equal(await status(await token(k2, { jti: 'fresh' })), 200, 'JWKS answering 503: the cached keys still verify');
  jwks.setDown('reset');
  const during = jwks.fetches;
  await waitFor(async () => (await status(await token(stranger))) === 401 && jwks.fetches > during, 5000, 50);
  t.equal(await status(await token(k2, { jti: 'fresh-2' })), 200, 'JWKS resetting connections: still verified');
});

t.test('JWKS never reachable: 503 GW_AUTH_UNAVAILABLE, not an invalid token', async (t) => {
  const k1 = await signingKey('k1');
  const up = await startUpstream();
  t.teardown(() => up.close());
  const snap = snapshot([service('s', [up.url])], [route('r', ['/r'], 's', { auth: { methods: ['jwt:idp'], roles: [], scopes: [] } })]);
  const gw = await startAuthGateway({
    ...snap,
    auth: authConfig({ jwt: [provider({ jwks: { url: 'http://127.0.0.1:1/jwks.json', maxAgeMs: 600_000, minRefetchIntervalMs: 100, timeoutMs: 500 } })] }),
  });
  t.teardown(() => gw.close());
  const res = await request(`${gw.url}/r`, { headers: { authorization: `Bearer ${await token(k1)}` } });
  const body = (await res.body.json()) as { error: { code: string } };
  t.equal(res.statusCode, 503);
  t.equal(body.error.code, 'GW_AUTH_UNAVAILABLE');
  t.equal(res.headers['retry-after'], '1', 'with when to try again (the first retry of the keys is 1 s away)');
  t.notOk('www-authenticate' in res.headers, 'no challenge: the credentials may be fine');
  t.equal(up.seen.length, 0);
});

t.test('HMAC provider and key files: the right key family only', async (t) => {
  const k1 = await signingKey('k1');
  const up = await startUpstream();
  t.teardown(() => up.close());
  const secret = 's'.repeat(40);
  const snap = snapshot([service('s', [up.url])], [
    route('hs', ['/hs'], 's', { auth: { methods: ['jwt:hs'], roles: [], scopes: [] } }),
    route('rs', ['/rs'], 's', { auth: { methods: ['jwt:rs'], roles: [], scopes: [] } }),
    route('both', ['/both'], 's', { auth: { methods: ['jwt:hs', 'jwt:rs'], roles: [], scopes: [] } }),
  ]);
  const gw = await startAuthGateway({
    ...snap,
    auth: authConfig({
      jwt: [
        provider({ name: 'hs', issuer: 'https://hs.test', algorithms: ['HS256'], secret }),
        provider({ name: 'rs', keys: [k1.jwk] }),
      ],
    }),
  });
  t.teardown(() => gw.close());
  const now = Math.floor(Date.now() / 1000);
  const hs = await new SignJWT({ iss: 'https://hs.test', aud: 'api', sub: 'svc', exp: now + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
  const rs = await token(k1);
  const status = async (path: string, tok: string) => {
    const res = await request(`${gw.url}${path}`, { headers: { authorization: `Bearer ${tok}` } });
    await res.body.dump();
    return res.statusCode;
  };
  t.equal(await status('/hs', hs), 200, 'HS256 with the secret');
  t.equal(await status('/rs', rs), 200, 'RS256 with the key from a file');
  t.equal(await status('/hs', rs), 401, 'an RS256 token on the HMAC provider');
  t.equal(await status('/rs', hs), 401, 'an HS256 token on the RSA provider');
  t.equal(await status('/both', hs), 200, 'two providers: picked by issuer');
  t.equal(await status('/both', rs), 200);
  t.equal(await status('/both', await token(k1, { iss: 'https://nobody.test' })), 401, 'an issuer neither provider has');
});

t.test('RBAC: 401 without identity, 403 without the role or a scope, 200 with them', async (t) => {
  const k1 = await signingKey('k1');
  const up = await startUpstream();
  t.teardown(() => up.close());
  const snap = snapshot([service('s', [up.url])], [
    route('admin', ['/admin'], 's', { auth: { methods: ['jwt:idp'], roles: ['admin', 'root'], scopes: [] } }),
    route('orders', ['/orders'], 's', { auth: { methods: ['jwt:idp'], roles: [], scopes: ['orders:read', 'orders:write'] } }),
  ]);
  const gw = await startAuthGateway({ ...snap, auth: authConfig({ jwt: [provider({ keys: [k1.jwk] })] }) });
  t.teardown(() => gw.close());
  const call = async (path: string, claims: Record<string, unknown> | null) => {
    const res = await request(`${gw.url}${path}`, { headers: claims === null ? {} : { authorization: `Bearer ${await token(k1, claims)}` } });
    const body = (await res.body.json()) as { error?: { code: string } };
    return { status: res.statusCode, code: body.error?.code, challenge: res.headers['www-authenticate'] };
  };
  t.match(await call('/admin', null), { status: 401, code: 'GW_UNAUTHENTICATED' });
  const forbidden = await call('/admin', { realm_access: { roles: ['ops'] } });
  t.match(forbidden, { status: 403, code: 'GW_FORBIDDEN' });
  t.match(forbidden.challenge, /error="insufficient_scope"/);
  t.match(await call('/admin', { realm_access: { roles: ['ops', 'root'] } }), { status: 200 }, 'any one of the roles');
  t.match(await call('/orders', { scope: 'orders:read' }), { status: 403 }, 'every scope is needed');
  const scoped = await call('/orders', { scope: 'orders:read' });
  t.match(scoped.challenge, /scope="orders:read orders:write"/, 'the challenge names the scopes');
  t.match(await call('/orders', { scope: 'orders:write orders:read extra' }), { status: 200 });
  t.match(await call('/orders', { scope: ['orders:write', 'orders:read'] }), { status: 200 }, 'scope as an array');
  t.equal(up.seen.length, 3, 'only the allowed requests reached the upstream');
});

/** A gateway with a route without auth (`/open`) and one behind JWT (`/closed`), before one upstream. */
async function openAndClosedRoutes(t: { teardown(fn: () => unknown): void }) {
  const k1 = await signingKey('k1');
  const up = await startUpstream();
  t.teardown(() => up.close());
  const snap = snapshot([service('s', [up.url])], [
    route('open', ['/open'], 's'),
    route('closed', ['/closed'], 's', { auth: { methods: ['jwt:idp'], roles: [], scopes: [] } }),
  ]);
  const gw = await startAuthGateway({ ...snap, auth: authConfig({ jwt: [provider({ keys: [k1.jwk] })] }) });
  t.teardown(() => gw.close());
  return { k1, up, gw };
}

t.test('identity headers from clients are stripped on every route, with or without auth', async (t) => {
  const { k1, up, gw } = await openAndClosedRoutes(t);
  const spoof = { 'X-Auth-Subject': 'root', 'x-auth-roles': 'admin', 'X-AUTH-SCOPES': 'all', 'x-auth-key-id': 'k', 'x-auth-method': 'api-key' };
  await (await request(`${gw.url}/open`, { headers: spoof })).body.dump();
  const open = up.seen[0]!;
  for (const name of Object.keys(spoof)) t.notOk(open.headers[name.toLowerCase()], `${name} stripped on a route without auth`);
  await (await request(`${gw.url}/closed`, { headers: { ...spoof, authorization: `Bearer ${await token(k1, { sub: 'bob' })}` } })).body.dump();
  const closed = up.seen[1]!;
  const subjects = closed.rawHeaders.filter((_, i) => i % 2 === 0 && closed.rawHeaders[i]!.toLowerCase() === 'x-auth-subject');
  t.equal(subjects.length, 1, 'exactly one subject header');
  t.equal(closed.headers['x-auth-subject'], 'bob', 'and it is the verified one');
  t.notOk(closed.headers['x-auth-roles'], 'no roles claimed: no roles header, the spoofed one gone');
  t.equal(closed.headers['x-auth-method'], 'jwt:idp');
});

t.test('underscore and mixed-case spellings of identity headers are stripped too (CGI reads _ as -)', async (t) => {
  const { k1, up, gw } = await openAndClosedRoutes(t);
  const spoof = { X_Auth_Subject: 'admin', 'x_auth-ROLES': 'admin', X_AUTH_SCOPES: 'all', 'x-auth_key_id': 'k', x_auth_method: 'api-key', 'X-Other_Header': 'kept' };
  await (await request(`${gw.url}/open`, { headers: spoof })).body.dump();
  await (await request(`${gw.url}/closed`, { headers: { ...spoof, authorization: `Bearer ${await token(k1, { sub: 'bob' })}` } })).body.dump();
  t.equal(up.seen.length, 2);
  for (const seen of up.seen) {
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replace(/_/g, '-'));
    for (const n of ['x-auth-roles', 'x-auth-scopes', 'x-auth-key-id']) t.notOk(names.includes(n), `${n} in no spelling`);
    t.equal(seen.headers['x-other_header'], 'kept', 'other underscore headers pass');
  }
  const openNames = up.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replace(/_/g, '-'));
  t.notOk(openNames.includes('x-auth-subject'), 'no subject in any spelling on a route without auth');
  const closed = up.seen[1]!.rawHeaders;
  const subjects = closed.filter((_, i) => i % 2 === 1 && closed[i - 1]!.toLowerCase().replace(/_/g, '-') === 'x-auth-subject');
  t.same(subjects, ['bob'], 'exactly one subject, the verified one');
});

t.test('identity values: % is always encoded so decoding is unambiguous; roles with "," are dropped', async (t) => {
  const k1 = await signingKey('k1');
  const up = await startUpstream();
  t.teardown(() => up.close());
  const snap = snapshot([service('s', [up.url])], [route('r', ['/r'], 's', { auth: { methods: ['jwt:idp'], roles: [], scopes: [] } })]);
  const gw = await startAuthGateway({ ...snap, auth: authConfig({ jwt: [provider({ keys: [k1.jwk] })] }) });
  t.teardown(() => gw.close());
  const call = async (claims: Record<string, unknown>) => {
    const res = await request(`${gw.url}/r`, { headers: { authorization: `Bearer ${await token(k1, claims)}` } });
    await res.body.dump();
    t.equal(res.statusCode, 200);
    return up.seen.at(-1)!.headers;
  };
  const a = await call({ sub: '%61dmin', realm_access: { roles: ['ops', 'admin,root', '50%'] }, scope: 'read a,b' });
  t.equal(a['x-auth-subject'], '%2561dmin', 'the % itself is encoded');
  t.equal(decodeURIComponent(a['x-auth-subject'] as string), '%61dmin', 'and decodes to the real subject, not to "admin"');
  t.equal(a['x-auth-roles'], 'ops,50%25', 'a role with "," is dropped (it would read as two roles)');
  t.equal(a['x-auth-scopes'], 'read', 'a scope with "," too');
  const b = await call({ sub: 'Zoë Smith' });
  t.equal(b['x-auth-subject'], 'Zo%C3%AB Smith', 'non-ASCII as UTF-8 percent-encoding; printable ASCII stays readable');
  t.equal(decodeURIComponent(b['x-auth-subject'] as string), 'Zoë Smith');
  t.equal((await call({ sub: 'plain-user@example.com' }))['x-auth-subject'], 'plain-user@example.com');
});
