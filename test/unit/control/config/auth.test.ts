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
      algorithms: [RS256, ES256]
      keyFiles: [rsa.pem, ec.jwk.json]
    - name: hs
      issuer: https://hs.test
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
    - { name: hs, issuer: "https://x.test", algorithms: [HS256], secret: "\${JWT_SECRET}" }
    - { name: rs, issuer: "https://y.test", algorithms: [RS256], keyFiles: [oct.json] }`),
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
