/** The auth section of the config: every problem reported with its line; key files read at load. */
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '../../../../src/control/config/index.js';
import { brief, problemsOf, snapshotOf, withRoutes } from './helpers.js';

const PEPPER = { GATEWAY_API_KEY_PEPPER: 'p'.repeat(32) };

async function load(t: { testdir(c?: Record<string, string>): string }, yaml: string, env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const dir = t.testdir({ 'gateway.yaml': yaml, ...files });
  return loadConfig(join(dir, 'gateway.yaml'), { env, version: 1 });
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

t.test('a valid auth config: providers, key files as public JWKs, route auth with defaults', async (t) => {
  const jwk = { ...(ec.publicKey.export({ format: 'jwk' }) as object), kid: 'ec-1' };
  const r = await load(
    t,
    withRoutes(
      `  - id: r
    path: /r
    service: svc
    auth: { roles: [admin] }
    rateLimits: [{ requests: 5, per: m, key: api-key }]
  - id: open
    path: /open
    service: svc`,
      `auth:
  jwt:
    - name: idp
      issuer: https://idp.test
      audiences: [orders-api]
      algorithms: [RS256, ES256]
      keyFiles: [rsa.pem, ec.jwk.json]
    - name: hs
      issuer: https://hs.test
      audiences: any
      algorithms: [HS256]
      secret: \${JWT_SECRET}
  apiKeys: {}`,
    ),
    { ...PEPPER, JWT_SECRET: 's'.repeat(32) },
    { 'rsa.pem': rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string, 'ec.jwk.json': JSON.stringify(jwk) },
  );
  const snap = snapshotOf(r);
  const auth = snap.auth!;
  t.equal(auth.jwt[0]!.keys.length, 2);
  t.equal(auth.jwt[0]!.keys[0]!.kty, 'RSA');
  t.notOk('d' in auth.jwt[0]!.keys[0]!, 'public parts only');
  t.equal(auth.jwt[0]!.keys[1]!.kid, 'ec-1', 'kid kept');
  t.equal(auth.jwt[1]!.secret, 's'.repeat(32));
  t.same(auth.jwt[0]!.audiences, ['orders-api']);
  t.equal(auth.jwt[1]!.audiences, 'any', 'the explicit opt-out reaches the worker as such');
  t.same(auth.apiKeys, { header: 'x-api-key', queryParam: null, refreshMs: 1000 });
  t.same(snap.routes[0]!.auth, { methods: ['jwt:idp', 'jwt:hs', 'api-key'], roles: ['admin'], scopes: [] }, 'methods default to every configured one');
  t.equal(snap.routes[1]!.auth, undefined, 'routes without auth stay as they were');
  t.same(auth.identityHeaders.subject, 'x-auth-subject');
});

t.test('no auth section: the snapshot has none (the default config keeps working)', async (t) => {
  const snap = snapshotOf(await load(t, withRoutes('  - { id: r, path: /r, service: svc }')));
  t.equal(snap.auth, undefined);
});

t.test('bad auth config: every problem with line, path and reason', async (t) => {
  const yaml = withRoutes(
    `  - id: r
    path: /r
    service: svc
    auth: { methods: [jwt:nobody, api-key] }
  - id: s
    path: /s
    service: svc
    rateLimits: [{ requests: 5, per: m, key: subject }]`,
    `auth:
  jwt:
    - name: bad-alg
      issuer: https://a.test
      algorithms: [none, HS257]
      secret: x
    - name: no-secret
      issuer: https://b.test
      algorithms: [HS256]
    - name: short
      issuer: https://c.test
      algorithms: [HS512]
      secret: too-short-for-hs512
    - name: mixed
      issuer: https://d.test
      algorithms: [HS256, RS256]
      secret: ${'x'.repeat(40)}
    - name: nokeys
      issuer: https://e.test
      algorithms: [RS256]
    - name: files
      issuer: https://f.test
      algorithms: [RS256]
      keyFiles: [missing.pem, ec.pem, junk.pem]
      jwksUrl: ftp://idp.test/keys
  apiKeys: {}
  identityHeaders: { subject: Authorization }`,
  );
  const r = await load(t, yaml, {}, { 'ec.pem': ec.publicKey.export({ format: 'pem', type: 'spki' }) as string, 'junk.pem': 'hello' });
  const problems = brief(problemsOf(r));
  const text = problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join('\n');
  t.match(text, /auth\.jwt\[0\]\.algorithms\[0\]: must be one of "HS256"/, 'alg none is not a name');
  t.match(text, /auth\.jwt\[0\]\.algorithms\[1\]: must be one of/, 'a typo is not a name');
  // Schema errors stop the semantic checks; fix those and look again.
  t.equal(r.ok, false);
  const r2 = await load(t, yaml.replace('[none, HS257]', '[HS256]'), {}, { 'ec.pem': ec.publicKey.export({ format: 'pem', type: 'spki' }) as string, 'junk.pem': 'hello' });
  const text2 = brief(problemsOf(r2)).map((p) => `${p.line}: ${p.path}: ${p.message}`).join('\n');
  t.match(text2, /\d+: auth\.jwt\[0\]\.secret: must be at least 32 bytes for HS256 \(got 1\)/);
  t.match(text2, /\d+: auth\.jwt\[1\]\.secret: is required for HS256/);
  t.match(text2, /auth\.jwt\[2\]\.secret: must be at least 64 bytes for HS512/);
  t.match(text2, /auth\.jwt\[3\]\.algorithms: mixes HMAC \(HS256\) and public-key \(RS256\)/);
  t.match(text2, /auth\.jwt\[4\]: needs "jwksUrl" or "keyFiles" for RS256/);
  t.match(text2, /auth\.jwt\[5\]\.keyFiles\[0\]: cannot read key file .*missing\.pem: ENOENT/, 'unreadable key file');
  t.match(text2, /auth\.jwt\[5\]\.keyFiles\[1\]: .*ec\.pem: a EC P-256 key cannot verify RS256/, 'wrong key type');
  t.match(text2, /auth\.jwt\[5\]\.keyFiles\[2\]: .*junk\.pem: not a PEM key/);
  t.match(text2, /auth\.jwt\[5\]\.jwksUrl: must be an http or https URL/);
  t.match(text2, /auth\.apiKeys: GATEWAY_API_KEY_PEPPER is not set/, 'API keys without the pepper');
  t.match(text2, /auth\.identityHeaders\.subject: "Authorization" is a header the gateway or the client owns/);
  t.match(text2, /routes\[0\]\.auth\.methods\[0\]: unknown method "jwt:nobody"/);
  t.match(text2, /routes\[1\]\.rateLimits\[0\]\.key: "subject" needs the route to have "auth"/);
  t.ok(brief(problemsOf(r2)).every((p) => typeof p.line === 'number'), 'every problem has a line');
});

t.test('a missing secret variable is named; a symmetric JWK in a key file is refused', async (t) => {
  const r = await load(
    t,
    withRoutes('  - { id: r, path: /r, service: svc }', `auth:
  jwt:
    - { name: hs, issuer: "https://x.test", audiences: any, algorithms: [HS256], secret: "\${JWT_SECRET}" }
    - { name: rs, issuer: "https://y.test", audiences: any, algorithms: [RS256], keyFiles: [oct.json] }`),
    {},
    { 'oct.json': JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }) },
  );
  const text = brief(problemsOf(r)).map((p) => `${p.path}: ${p.message}`).join('\n');
  t.match(text, /auth\.jwt\[0\]\.secret: environment variable JWT_SECRET is not set/);
  t.match(text, /auth\.jwt\[1\]\.keyFiles\[0\]: .*symmetric \(kty "oct"\) keys do not belong in key files/);
});

t.test('route auth without an auth section', async (t) => {
  const r = await load(t, withRoutes('  - { id: r, path: /r, service: svc, auth: {} }'));
  t.match(brief(problemsOf(r)), [{ path: 'routes[0].auth', message: /needs the top-level "auth" section/ }]);
});

t.test('audiences, JWKS transport, header names, duplicate issuers, service limits: each reported with its line', async (t) => {
  const yaml = `services:
  - name: svc
    instances: [{ url: "http://127.0.0.1:9000" }]
    rateLimits: [{ requests: 5, per: m, key: api-key }]
  - name: closed
    instances: [{ url: "http://127.0.0.1:9001" }]
    rateLimits: [{ requests: 5, per: m, key: subject }]
routes:
  - id: open
    path: /open
    service: svc
  - id: both
    path: /both
    service: svc
    auth: { methods: [jwt:a, jwt:b] }
  - id: all
    path: /all
    service: closed
    auth: {}
auth:
  jwt:
    - name: a
      issuer: https://same.test
      algorithms: [RS256]
      jwksUrl: http://idp.example.com/keys
    - name: b
      issuer: https://same.test
      audiences: any
      algorithms: [RS256]
      jwksUrl: http://127.0.0.2:8080/keys
    - name: c
      issuer: https://c.test
      audiences: [x]
      algorithms: [RS256]
      jwksUrl: http://[::1]:8080/keys
    - name: d
      issuer: https://d.test
      audiences: [x]
      algorithms: [RS256]
      jwksUrl: http://localhost/keys
  apiKeys: { header: X_Auth_Key_Id }
  identityHeaders: { subject: X-Forwarded-User, roles: Keep-Alive, scopes: x_auth_method, method: X-Auth-Method, keyId: x-real-ip }
`;
  const r = await load(t, yaml, PEPPER);
  const problems = brief(problemsOf(r));
  const text = problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join('\n');
  t.match(text, /22: auth\.jwt\[0\]\.audiences: is required: .*"audiences: any"/, 'a provider without audiences');
  t.match(text, /25: auth\.jwt\[0\]\.jwksUrl: must be https/, 'plain http to a remote host');
  t.notMatch(text, /auth\.jwt\[[123]\]\.jwksUrl/, 'http to 127.0.0.0/8, ::1 and localhost is fine');
  t.notMatch(text, /auth\.jwt\[[123]\]\.audiences/);
  t.match(text, /15: routes\[1\]\.auth\.methods: "jwt:a" and "jwt:b" have the same issuer "https:\/\/same\.test"/);
  t.match(text, /19: routes\[2\]\.auth: "jwt:a" and "jwt:b" have the same issuer/, 'also when the route takes every method by default');
  t.match(text, /4: services\[0\]\.rateLimits\[0\]\.key: "api-key" needs every route of service "svc" to have "auth" \(no identity to key by on: open\)/);
  t.notMatch(text, /services\[1\]/, 'a service whose routes all have auth may key by subject');
  t.match(text, /auth\.identityHeaders\.subject: "X-Forwarded-User" is a header the gateway or the client owns/, 'x-forwarded-*');
  t.match(text, /auth\.identityHeaders\.roles: "Keep-Alive" is a header the gateway or the client owns/, 'hop-by-hop');
  t.match(text, /auth\.identityHeaders\.keyId: "x-real-ip" is a header the gateway or the client owns/, 'client address');
  t.match(text, /auth\.identityHeaders\.method: "X-Auth-Method" is the same header as identityHeaders\.scopes/, '_ and - name one header');
  t.notMatch(text, /identityHeaders\.keyId: .*same header/, 'the API key header clashes only where it is really used');
  t.ok(problems.every((p) => typeof p.line === 'number'), 'every problem has a line');

  const r2 = await load(t, yaml.replace('header: X_Auth_Key_Id', 'header: Proxy-Authorization').replace('keyId: x-real-ip', 'keyId: X-Auth-Key-Id'), PEPPER);
  const text2 = brief(problemsOf(r2)).map((p) => `${p.path}: ${p.message}`).join('\n');
  t.match(text2, /auth\.apiKeys\.header: "Proxy-Authorization" is a hop-by-hop, framing, forwarding or credential header/);
  const r3 = await load(t, yaml.replace('keyId: x-real-ip', 'keyId: X-Auth-Key-Id'), PEPPER);
  t.match(brief(problemsOf(r3)).map((p) => `${p.path}: ${p.message}`).join('\n'), /auth\.identityHeaders\.keyId: "X-Auth-Key-Id" is the same header as apiKeys\.header/, 'the API key header and an identity header never coincide');
  // Names the data plane strips (ipc/header-names.ts) can never be identity headers: they would vanish silently.
  for (const owned of ['X-Cluster-Client-IP', 'Expect', 'Proxy-Connection']) {
    const r4 = await load(t, yaml.replace('keyId: x-real-ip', `keyId: ${owned}`), PEPPER);
    t.match(brief(problemsOf(r4)).map((p) => `${p.path}: ${p.message}`).join('\n'), new RegExp(`auth\\.identityHeaders\\.keyId: "${owned}" is a header the gateway or the client owns`), owned);
  }
});

t.test('audiences must be a non-empty list or "any"; roles with "," are refused', async (t) => {
  const base = (aud: string) => withRoutes('  - { id: r, path: /r, service: svc, auth: { roles: [ok] } }', `auth:
  jwt:
    - { name: a, issuer: "https://a.test", audiences: ${aud}, algorithms: [RS256], jwksUrl: "https://a.test/keys" }`);
  t.equal((await load(t, base('[api]'))).ok, true);
  t.equal((await load(t, base('any'))).ok, true);
  for (const bad of ['[]', 'all', '""']) {
    const text = brief(problemsOf(await load(t, base(bad)))).map((p) => `${p.path}: ${p.message}`).join('\n');
    t.match(text, /auth\.jwt\[0\]\.audiences/, `audiences: ${bad} is refused`);
  }
  const text = brief(problemsOf(await load(t, base('[api]').replace('roles: [ok]', 'roles: ["a,b"]')))).map((p) => `${p.path}: ${p.message}`).join('\n');
  t.match(text, /routes\[0\]\.auth\.roles\[0\]/, 'a route role with "," could never match an identity');
});
