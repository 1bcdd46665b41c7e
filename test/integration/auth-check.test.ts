/** `gateway check` reports auth config problems (bad algorithm, missing secret or audiences, unreadable key file, JWKS over plain http) with file:line. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers/repo.js';

function check(file: string, env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GATEWAY_|JWT_)/.test(k)));
  const r = spawnSync(process.execPath, [CLI, 'check', '--config', file], { cwd: ROOT, env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('auth problems are reported by gateway check with file, line and key path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-auth-check-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, [
    'services:',
    '  - name: s',
    '    instances: [{ url: "http://127.0.0.1:9000" }]',
    'routes:',
    '  - id: r',
    '    path: /r',
    '    service: s',
    '    auth: { methods: [jwt:rs, jwt:hs, api-key] }',
    'auth:',
    '  jwt:',
    '    - name: rs',
    '      issuer: https://idp.test',
    '      algorithms: [RS256]',
    '      keyFiles: [keys/missing.pem]',
    '    - name: hs',
    '      issuer: https://hs.test',
    '      audiences: any',
    '      algorithms: [HS256]',
    '      secret: ${JWT_SECRET}',
    '  apiKeys: {}',
    '',
  ].join('\n'));
  const r = check(file);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`${file}:14: auth\\.jwt\\[0\\]\\.keyFiles\\[0\\]: cannot read key file .*keys/missing\\.pem: ENOENT`));
  t.match(r.stderr, new RegExp(`${file}:11: auth\\.jwt\\[0\\]\\.audiences: is required: .*"audiences: any"`), 'a provider must say which audiences it accepts');
  t.match(r.stderr, new RegExp(`${file}:19: auth\\.jwt\\[1\\]\\.secret: environment variable JWT_SECRET is not set`));
  t.match(r.stderr, new RegExp(`${file}:20: auth\\.apiKeys: GATEWAY_API_KEY_PEPPER is not set`));
  t.match(r.stderr, /4 problem\(s\)/);

  writeFileSync(file, readFileSync(file, 'utf8').replace('algorithms: [RS256]', 'algorithms: [RS256, none]'));
  t.match(check(file).stderr, new RegExp(`${file}:13: auth\\.jwt\\[0\\]\\.algorithms\\[1\\]: must be one of "HS256"`), 'alg none is refused by name');

  mkdirSync(join(dir, 'keys'));
  writeFileSync(join(dir, 'keys', 'missing.pem'), generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }) as string);
  writeFileSync(file, readFileSync(file, 'utf8').replace('algorithms: [RS256, none]', 'algorithms: [RS256]\n      jwksUrl: http://idp.example.com/jwks').replace('issuer: https://idp.test', 'issuer: https://idp.test\n      audiences: [api]'));
  const plain = check(file, { JWT_SECRET: 'j'.repeat(32), GATEWAY_API_KEY_PEPPER: 'p'.repeat(32) });
  t.match(plain.stderr, new RegExp(`${file}:15: auth\\.jwt\\[0\\]\\.jwksUrl: must be https`), 'JWKS over plain http to a remote host');
  t.match(plain.stderr, /1 problem\(s\)/);
  writeFileSync(file, readFileSync(file, 'utf8').replace('http://idp.example.com/jwks', 'http://127.0.0.1:1/jwks'));
  const ok = check(file, { JWT_SECRET: 'j'.repeat(32), GATEWAY_API_KEY_PEPPER: 'p'.repeat(32) });
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /: ok \(1 routes, 1 services\)/);
});
