/** `server.tls`: certificate and key files read and checked at load, every problem with its line. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../../src/control/config/index.js';
import { checkTls } from '../../../../src/control/config/tls-checks.js';
import { brief, problemsOf, ROOT, snapshotOf, withRoutes } from './helpers.js';

const pem = (name: string): string => readFileSync(join(ROOT, 'test', 'fixtures', 'tls', name), 'utf8');
/** Every fixture, under its own name, for the test dir. */
const FILES: Record<string, string> = Object.fromEntries(
  ['localhost', 'wildcard', 'api', 'nosan', 'expired', 'ec', 'weak'].flatMap((n) => [[`${n}.pem`, pem(`${n}.pem`)], [`${n}-key.pem`, pem(`${n}-key.pem`)]]),
);
FILES['underexpired-key.pem'] = pem('underexpired-key.pem');
FILES['ca.pem'] = pem('ca.pem');
FILES['int-ca.pem'] = pem('int-ca.pem');
FILES['v1-ca.pem'] = pem('v1-ca.pem');
FILES['expired-ca.pem'] = pem('expired-ca.pem');
FILES['ca-bundle.pem'] = pem('ca.pem') + pem('int-ca.pem');
FILES['api-fullchain.pem'] = pem('api-fullchain.pem');
FILES['underexpired-chain.pem'] = pem('underexpired-chain.pem');
FILES['encrypted-key.pem'] = pem('encrypted-key.pem');
FILES['ca.pem'] = pem('ca.pem');
FILES['int-ca.pem'] = pem('int-ca.pem');
FILES['v1-ca.pem'] = pem('v1-ca.pem');
FILES['expired-ca.pem'] = pem('expired-ca.pem');
FILES['ca-bundle.pem'] = pem('ca.pem') + pem('int-ca.pem');

const ROUTES = `  - id: r
    path: /r
    service: svc`;

async function load(t: { testdir(c?: Record<string, string>): string }, tls: string, files: Record<string, string> = {}) {
  const dir = t.testdir({ 'gateway.yaml': withRoutes(ROUTES, `server:\n  tls:\n${tls}`), ...FILES, ...files });
  return { dir, result: await loadConfig(join(dir, 'gateway.yaml'), { env: {}, version: 1 }) };
}

t.test('a valid TLS config: chains and keys read, SNI names from subjectAltName, defaults, ticket keys', async (t) => {
  const { dir, result } = await load(
    t,
    `    certificates:
      - { certFile: localhost.pem, keyFile: localhost-key.pem }
      - { certFile: wildcard.pem, keyFile: wildcard-key.pem }
      - { certFile: api-fullchain.pem, keyFile: api-key.pem }`,
  );
  const tls = snapshotOf(result).server.tls!;
  t.same(
    tls.certificates.map((c) => ({ names: c.names, certFile: c.certFile })),
    [
      { names: ['localhost', 'gateway.test'], certFile: join(dir, 'localhost.pem') },
      { names: ['*.apps.test', 'apps.test'], certFile: join(dir, 'wildcard.pem') },
      { names: ['api.example.test'], certFile: join(dir, 'api-fullchain.pem') },
    ],
    'names are the DNS entries only (the IP entry of localhost.pem is not an SNI name)',
  );
  t.equal(tls.certificates[0]!.key, FILES['localhost-key.pem'], 'the key travels as its PEM text');
  t.match(tls.certificates[2]!.cert, /^(-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n){2}$/, 'a chain file keeps its whole chain');
  t.match(tls.certificates[0]!.notAfter, /^2126-/, 'the leaf expiry is recorded');
  t.equal(tls.minVersion, 'TLSv1.2');
  t.equal(tls.ciphers, null);
  t.equal(tls.handshakeTimeoutMs, 10_000);
  t.match(tls.ticketKeys, /^[0-9a-f]{96}$/, '48 bytes of ticket keys');
  const again = snapshotOf((await load(t, `    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]`)).result);
  t.not(again.server.tls!.ticketKeys, tls.ticketKeys, 'each load draws its own ticket keys (a reload rotates them)');
});

t.test('without server.tls the snapshot has no tls field at all', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': withRoutes(ROUTES) });
  const snap = snapshotOf(await loadConfig(join(dir, 'gateway.yaml'), { env: {}, version: 1 }));
  t.notOk('tls' in snap.server);
});

t.test('every problem with a file is reported at once, at the line of the entry at fault', async (t) => {
  const { dir, result } = await load(
    t,
    `    certificates:
      - { certFile: missing.pem, keyFile: localhost-key.pem }
      - { certFile: wildcard.pem, keyFile: api-key.pem }
      - { certFile: expired.pem, keyFile: expired-key.pem }
      - { certFile: api.pem, keyFile: encrypted-key.pem }
      - { certFile: localhost-key.pem, keyFile: api-key.pem }
      - { certFile: garbage.pem, keyFile: garbage.pem }
      - { certFile: reversed.pem, keyFile: api-key.pem }
      - { certFile: nosan.pem, keyFile: nosan-key.pem }
      - { certFile: weak.pem, keyFile: weak-key.pem }
      - { certFile: underexpired-chain.pem, keyFile: underexpired-key.pem }`,
    { 'garbage.pem': 'not a certificate\n', 'reversed.pem': FILES['ca.pem']! + FILES['api.pem']! },
  );
  const f = (name: string) => join(dir, name);
  t.same(brief(problemsOf(result)), [
    { line: 12, path: 'server.tls.certificates[0].certFile', message: `cannot read certificate file ${f('missing.pem')}: ENOENT` },
    { line: 13, path: 'server.tls.certificates[1].keyFile', message: `${f('api-key.pem')}: does not match the certificate in ${f('wildcard.pem')}` },
    { line: 14, path: 'server.tls.certificates[2].certFile', message: `${f('expired.pem')}: expired on 2001-01-01T00:00:00.000Z` },
    {
      line: 15,
      path: 'server.tls.certificates[3].keyFile',
      message: `${f('encrypted-key.pem')}: the key is encrypted; the gateway needs it unencrypted, in a file only its user can read (openssl pkey -in ${f('encrypted-key.pem')} -out <new file>)`,
    },
    { line: 16, path: 'server.tls.certificates[4].certFile', message: `${f('localhost-key.pem')}: holds a private key; certFile takes certificates only (the key goes in keyFile)` },
    { line: 17, path: 'server.tls.certificates[5].certFile', message: `${f('garbage.pem')}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it` },
    { line: 17, path: 'server.tls.certificates[5].keyFile', message: `${f('garbage.pem')}: not a PEM private key: error:1E08010C:DECODER routines::unsupported` },
    { line: 18, path: 'server.tls.certificates[6].certFile', message: `${f('reversed.pem')}: certificate 2 did not issue certificate 1; the chain must be in order, leaf first` },
    {
      line: 19,
      path: 'server.tls.certificates[7].certFile',
      message: `${f('nosan.pem')}: has no DNS names in its subjectAltName, so SNI can never choose it (only the first certificate, the default, may have none)`,
    },
    { line: 20, path: 'server.tls.certificates[8].keyFile', message: `${f('weak-key.pem')}: a 1024-bit RSA key; clients refuse RSA keys below 2048 bits` },
    { line: 21, path: 'server.tls.certificates[9].certFile', message: `${f('underexpired-chain.pem')}: expired on 2001-01-01T00:00:00.000Z (certificate 2 of the chain)` },
  ]);
});

t.test('one key type for all certificates: SNI could otherwise hand out the default certificate', async (t) => {
  const { dir, result } = await load(
    t,
    `    certificates:
      - { certFile: localhost.pem, keyFile: localhost-key.pem }
      - { certFile: ec.pem, keyFile: ec-key.pem }`,
  );
  t.same(brief(problemsOf(result)), [
    {
      line: 13,
      path: 'server.tls.certificates[1].keyFile',
      message: `${join(dir, 'ec-key.pem')}: an ECDSA key, but server.tls.certificates[0] has an RSA key; all certificates must have the same key type (Node could hand a client the default certificate for another name: nodejs/node#54235)`,
    },
  ]);
});

t.test('ECDSA certificates load (one key type for all), and a combined file serves as certFile and keyFile', async (t) => {
  const ec = snapshotOf((await load(t, `    certificates: [{ certFile: ec.pem, keyFile: ec-key.pem }]`)).result);
  t.same(ec.server.tls!.certificates[0]!.names, ['ec.example.test']);
  const combined = FILES['localhost.pem']! + FILES['localhost-key.pem']!;
  const one = snapshotOf((await load(t, `    certificates: [{ certFile: combined.pem, keyFile: combined.pem }]`, { 'combined.pem': combined })).result);
  t.match(one.server.tls!.certificates[0]!.cert, /^-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n$/, 'only the certificate goes into the chain');
});

t.test('a certificate without DNS names is fine as the default (first) one', async (t) => {
  const { result } = await load(t, `    certificates: [{ certFile: nosan.pem, keyFile: nosan-key.pem }]`);
  t.same(snapshotOf(result).server.tls!.certificates[0]!.names, []);
});

t.test('a name served by two certificates is refused: SNI could only ever choose one', async (t) => {
  const { dir, result } = await load(
    t,
    `    certificates:
      - { certFile: localhost.pem, keyFile: localhost-key.pem }
      - { certFile: api.pem, keyFile: api-key.pem }
      - { certFile: api-fullchain.pem, keyFile: api-key.pem }`,
  );
  t.same(brief(problemsOf(result)), [
    { line: 14, path: 'server.tls.certificates[2].certFile', message: `${join(dir, 'api-fullchain.pem')}: "api.example.test" is already served by server.tls.certificates[1]` },
  ]);
});

t.test('schema: certificates required and non-empty, minVersion, handshake timeout range, unknown keys', async (t) => {
  const problems = brief(problemsOf((await load(t, `    minVersion: TLSv1.1\n    handshakeTimeoutMs: 5\n    passphrase: x`)).result));
  t.same(problems.map((p) => p.path).sort(), ['server.tls.certificates', 'server.tls.handshakeTimeoutMs', 'server.tls.minVersion', 'server.tls.passphrase']);
  t.match(problems.find((p) => p.path === 'server.tls.minVersion')!.message, /TLSv1\.2.*TLSv1\.3/);
  t.match(problems.find((p) => p.path === 'server.tls.certificates')!.message, /required/, 'the missing certificates are named');
  t.match(problems.find((p) => p.path === 'server.tls.passphrase')!.message, /unknown/, 'the unknown key is named');
  const empty = brief(problemsOf((await load(t, `    certificates: []`)).result));
  t.same(empty.map((p) => p.path), ['server.tls.certificates']);
});

t.test('a cipher list OpenSSL cannot use is refused; a valid one is kept', async (t) => {
  const bad = brief(problemsOf((await load(t, `    ciphers: NOT-A-CIPHER\n    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]`)).result));
  t.equal(bad.length, 1);
  t.equal(bad[0]!.path, 'server.tls.ciphers');
  t.match(bad[0]!.message, /^OpenSSL refuses this cipher list: .*no cipher match/i);
  const good = snapshotOf((await load(t, `    ciphers: ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256\n    minVersion: TLSv1.3\n    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]`)).result);
  t.equal(good.server.tls!.ciphers, 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256');
  t.equal(good.server.tls!.minVersion, 'TLSv1.3');
});

t.test('file names are relative to the config file and may come from the environment', async (t) => {
  const dir = t.testdir({
    conf: { 'gateway.yaml': withRoutes(ROUTES, 'server:\n  tls:\n    certificates: [{ certFile: "${CERT}", keyFile: ../keys/localhost-key.pem }]') },
    keys: { 'localhost-key.pem': FILES['localhost-key.pem']! },
    'localhost.pem': FILES['localhost.pem']!,
  } as unknown as Record<string, string>);
  const snap = snapshotOf(await loadConfig(join(dir, 'conf', 'gateway.yaml'), { env: { CERT: join(dir, 'localhost.pem') }, version: 1 }));
  t.equal(snap.server.tls!.certificates[0]!.certFile, join(dir, 'localhost.pem'));
});

t.test('httpPort: a plain listener beside TLS; its routes redirect to HTTPS unless they say httpsRedirect: false', async (t) => {
  const dir = t.testdir({
    ...FILES,
    'gateway.yaml': `server:
  port: 8443
  tls:
    httpPort: 8080
    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]
services:
  - name: svc
    instances: [{ url: http://127.0.0.1:9000 }]
routes:
  - { id: app, path: /app, service: svc }
  - { id: acme, path: /.well-known/acme-challenge/*, service: svc, httpsRedirect: false }
`,
  });
  const snap = snapshotOf(await loadConfig(join(dir, 'gateway.yaml'), { env: {}, version: 1 }));
  t.equal(snap.server.tls!.httpPort, 8080);
  t.same(snap.routes.map((r) => [r.id, r.httpsRedirect ?? false]), [['app', true], ['acme', false]]);
  const same = brief(problemsOf((await load(t, `    httpPort: 8080\n    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]`)).result));
  t.same(same, [{ line: 11, path: 'server.tls.httpPort', message: 'must differ from server.port (8080), where the TLS listener is' }]);
  const { result } = await load(t, `    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]`);
  t.equal(snapshotOf(result).server.tls!.httpPort, null);
  t.notOk('httpsRedirect' in snapshotOf(result).routes[0]!, 'TLS without httpPort: no plain listener, nothing to redirect');
});

t.test('httpsRedirect: true works without the gateway\'s own TLS (behind a TLS load balancer)', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': withRoutes(`  - id: r\n    path: /r\n    service: svc\n    httpsRedirect: true`) });
  const snap = snapshotOf(await loadConfig(join(dir, 'gateway.yaml'), { env: {}, version: 1 }));
  t.equal(snap.routes[0]!.httpsRedirect, true);
});

t.test('clientAuth: the CA file is read and checked; mode defaults to require', async (t) => {
  const certs = `    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]`;
  const ok = snapshotOf((await load(t, `${certs}\n    clientAuth: { caFile: ca.pem }`)).result);
  t.same(ok.server.tls!.clientAuth, { ca: FILES['ca.pem'], mode: 'require' });
  const optional = snapshotOf((await load(t, `${certs}\n    clientAuth: { caFile: ca.pem, mode: optional }`)).result);
  t.equal(optional.server.tls!.clientAuth!.mode, 'optional');
  t.equal(snapshotOf((await load(t, certs)).result).server.tls!.clientAuth, null, 'absent: no client certificates asked for');
  const { dir, result } = await load(t, `${certs}\n    clientAuth: { caFile: localhost.pem }`);
  t.same(brief(problemsOf(result)), [
    { line: 12, path: 'server.tls.clientAuth.caFile', message: `${join(dir, 'localhost.pem')}: certificate 1 (CN=localhost) is not a CA certificate; clientAuth.caFile takes the CAs that issue client certificates` },
  ]);
  const missing = brief(problemsOf((await load(t, `${certs}\n    clientAuth: { caFile: none.pem, mode: sometimes }`)).result));
  t.same(missing.map((p) => p.path), ['server.tls.clientAuth.mode'], 'the schema speaks first; the file is not read for an invalid section');
  const unreadable = brief(problemsOf((await load(t, `${certs}\n    clientAuth: { caFile: none.pem }`)).result));
  t.match(unreadable, [{ path: 'server.tls.clientAuth.caFile', message: /^cannot read CA file .*none\.pem: ENOENT$/ }]);
});

t.test('clientAuth.caFile: CAs leading to a root in the file, valid now', async (t) => {
  const certs = `    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]`;
  t.ok(snapshotOf((await load(t, `${certs}\n    clientAuth: { caFile: ca-bundle.pem }`)).result).server.tls!.clientAuth, 'a root and an intermediate it issued');
  const alone = await load(t, `${certs}\n    clientAuth: { caFile: int-ca.pem }`);
  t.same(brief(problemsOf(alone.result)), [
    { line: 12, path: 'server.tls.clientAuth.caFile', message: `${join(alone.dir, 'int-ca.pem')}: certificate 1 (CN=clients intermediate) does not lead to a root (self-signed) certificate in the file; add the root CA that issued it` },
  ]);
  const expired = await load(t, `${certs}\n    clientAuth: { caFile: expired-ca.pem }`);
  t.same(brief(problemsOf(expired.result)), [
    { line: 12, path: 'server.tls.clientAuth.caFile', message: `${join(expired.dir, 'expired-ca.pem')}: certificate 1 (CN=expired intermediate) expired on 2001-01-01T00:00:00.000Z` },
  ]);
});

t.test('clientAuth.caFile: a version 1 root (no CA flag) is a root; a CA not valid yet is refused', async (t) => {
  const certs = `    certificates: [{ certFile: localhost.pem, keyFile: localhost-key.pem }]`;
  t.ok(snapshotOf((await load(t, `${certs}\n    clientAuth: { caFile: v1-ca.pem }`)).result).server.tls!.clientAuth, 'a v1 self-signed root');
  const dir = t.testdir({ ...FILES });
  const problems: string[] = [];
  const doc = { server: { port: 8443, tls: { certificates: [{ certFile: 'localhost.pem', keyFile: 'localhost-key.pem' }], minVersion: 'TLSv1.2' as const, handshakeTimeoutMs: 10_000, clientAuth: { caFile: 'ca.pem', mode: 'require' as const } } } };
  // In 2020 the test CA (made in 2026) is not valid yet; nor is the server certificate.
  await checkTls(doc, { configDir: dir, now: Date.parse('2020-01-01T00:00:00Z') }, (path, message) => problems.push(`${path.join('.')}: ${message}`));
  t.match(problems, [/^server\.tls\.certificates\.0\.certFile: .*localhost\.pem: not valid before 20/, /^server\.tls\.clientAuth\.caFile: .*ca\.pem: certificate 1 \(CN=gateway test CA\) is not valid before 20/]);
});
