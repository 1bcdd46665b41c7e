/** The `gateway` executable: subcommands, --help, --env switching and exit codes. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers/repo.js';

/** Environment without anything the developer's shell might have set for the gateway. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(GATEWAY_|LOG_LEVEL|APP_UPSTREAM_URL|EXAMPLE_UPSTREAM_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

function run(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(extra), encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('check: the shipped default and dev configs are valid', async (t) => {
  let r = run(['check']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /config\/gateway\.yaml: ok \(2 routes, 1 services\)/);
  r = run(['check', '--env', 'dev']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /gateway\.dev\.yaml: ok/, '--env dev switches the config file through .env.dev');
});

t.test('check --env prod: the required APP_UPSTREAM_URL is named when missing', async (t) => {
  let r = run(['check', '--env', 'prod']);
  t.equal(r.code, 1);
  t.match(r.stderr, /gateway\.prod\.yaml:\d+: .*APP_UPSTREAM_URL/);
  r = run(['check', '--env', 'prod'], { APP_UPSTREAM_URL: 'http://10.0.0.5:8080' });
  t.equal(r.code, 0, r.stderr);
});

t.test('process environment wins over .env files', async (t) => {
  const r = run(['check', '--env', 'dev'], { GATEWAY_CONFIG: 'config/gateway.yaml' });
  t.equal(r.code, 0);
  t.match(r.stdout, /config\/gateway\.yaml: ok/);
  t.match(run(['check'], { GATEWAY_ENV: 'dev' }).stdout, /gateway\.dev\.yaml/, 'GATEWAY_ENV works like --env');
});

t.test('check: a TLS config lists its certificates with names and expiry', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cli-'));
  const file = join(dir, 'tls.yaml');
  const fixture = (name: string) => join(ROOT, 'test', 'fixtures', 'tls', name);
  writeFileSync(file, [
    'server:',
    '  tls:',
    `    certificates: [{ certFile: "${fixture('localhost.pem')}", keyFile: "${fixture('localhost-key.pem')}" }]`,
    'services: [{ name: s, instances: [{ url: "http://127.0.0.1:1" }] }]',
    'routes: [{ id: r, path: /a, service: s }]',
    '',
  ].join('\n'));
  const r = run(['check', '--config', file]);
  t.equal(r.code, 0);
  t.match(r.stdout, new RegExp(`^${file}: ok \\(1 routes, 1 services\\)\\n  tls: ${fixture('localhost.pem')} \\(localhost, gateway\\.test\\) expires 2126-`));
  t.equal(r.stderr, '', 'no warning for a certificate a century away');
});

t.test('check: an invalid config lists every problem with file, line, path and reason; exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cli-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, [
    'server:',
    '  port: 99999',
    'services:',
    '  - name: s',
    '    instances: [{ url: "http://127.0.0.1:1" }]',
    'routes:',
    '  - id: r',
    '    path: /a',
    '    service: nope',
    '    methds: [GET]',
    '',
  ].join('\n'));
  const r = run(['check', '--config', file]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`${file}:2: server\\.port: `));
  t.match(r.stderr, /methds/);
  t.match(r.stderr, /3 problem\(s\)|problem\(s\)/);
  const start = run(['start', '--config', file]);
  t.equal(start.code, 1, 'start refuses the same config');
  t.match(start.stdout, /config is invalid; not starting/);
});

t.test('usage errors exit 2 with a clear message', async (t) => {
  let r = run(['start', '--env', 'nope']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown environment "nope"/);
  r = run(['frobnicate']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown command "frobnicate"/);
  r = run(['check', '--bogus']);
  t.equal(r.code, 2);
  r = run(['check'], { LOG_LEVEL: 'loud' });
  t.equal(r.code, 2);
  t.match(r.stderr, /LOG_LEVEL must be one of/);
});

t.test('start on a port already taken: one clear fatal line and exit 1, without the crash-loop retries', async (t) => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'gw-cli-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, `server: { host: 127.0.0.1, port: ${port}, workers: 2 }\nservices: [{ name: s, instances: [{ url: "http://127.0.0.1:9" }] }]\nroutes: [{ id: r, path: /x, service: s }]\n`);
  const started = Date.now();
  const r = run(['start', '--config', file]);
  t.equal(r.code, 1);
  t.match(r.stdout, /"level":"fatal"[^\n]*"msg":"workers cannot listen on the configured address[^\n]*not retrying"/);
  t.notMatch(r.stdout, /uncaught exception/, 'the other worker, still starting, is stopped cleanly');
  t.match(r.stdout, /EADDRINUSE/, "the worker's own line says why");
  t.notMatch(r.stdout, /respawning|crash-looping/, 'no retries, no crash-loop verdict');
  t.ok(Date.now() - started < 10_000, 'and promptly');
});

t.test('--help on each command', async (t) => {
  for (const args of [['--help'], ['start', '--help'], ['check', '-h'], ['help']]) {
    const r = run(args);
    t.equal(r.code, 0, args.join(' '));
    t.match(r.stdout, /^Usage: gateway/);
  }
  t.match(run(['check', '--help']).stdout, /Exit 0 when valid, 1 when invalid/);
  t.match(run(['--help']).stdout, /^Usage: gateway <command>[^]*check[^]*keys[^]*traces/, '--help alone lists the commands');
  t.match(run(['start', '--help']).stdout, /^Usage: gateway start/);
});

t.test('--version prints the package version; an unknown option is named plainly', async (t) => {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = run([flag]);
    t.equal(r.code, 0);
    t.equal(r.stdout, `gateway ${pkg.version} (node ${process.version})\n`);
  }
  const r = run(['start', '--bogus']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown option "--bogus" \(see --help\)/);
  t.notMatch(r.stderr, /positional argument/, "no advice about '--' that no command needs");
});
