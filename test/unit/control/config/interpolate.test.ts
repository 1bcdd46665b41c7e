import t from 'tap';
import { resolveCore, substitute } from '../../../../src/control/config/interpolate.js';
import { brief, loadYaml, problemsOf, snapshotOf, withRoutes } from './helpers.js';

const ROUTE = '  - { id: r, path: /x, service: svc }';

t.test('substitute: variables, defaults, escapes', async (t) => {
  const env = { A: 'one', EMPTY: '' };
  t.same(substitute('${A}', env), { text: 'one', exact: true, problems: [] });
  t.same(substitute('x-${A}-${A}', env), { text: 'x-one-one', exact: false, problems: [] });
  t.equal(substitute('${B:-two}', env).text, 'two', 'default when unset');
  t.equal(substitute('${EMPTY:-two}', env).text, 'two', 'default when empty, as sh ":-"');
  t.equal(substitute('${EMPTY}', env).text, '', 'an empty variable is set');
  t.equal(substitute('${B:-}', env).text, '', 'empty default');
  t.equal(substitute('${B:-a:-b}', env).text, 'a:-b', 'default runs to the first "}"');
  t.same(substitute('$${A} and ${A}', env), { text: '${A} and one', exact: false, problems: [] });
  t.equal(substitute('$A $ {A} $$ 100$', env).text, '$A $ {A} $$ 100$', 'other dollars are literal');
});

t.test('substitute: problems', async (t) => {
  t.same(substitute('http://${HOST}:80', {}).problems, ['environment variable HOST is not set (use ${HOST:-value} for a default)']);
  t.match(substitute('${1X}', {}).problems, [/invalid reference "\$\{1X\}"/]);
  t.match(substitute('${A B}', { A: 'x' }).problems, [/invalid reference/]);
  t.match(substitute('${}', {}).problems, [/invalid reference/]);
  t.match(substitute('abc ${A', { A: 'x' }).problems, [/unterminated/]);
  t.equal(substitute('${X} ${Y}', {}).problems.length, 2, 'every missing variable');
});

t.test('resolveCore types like a YAML core-schema plain scalar', async (t) => {
  t.equal(resolveCore('8080'), 8080);
  t.equal(resolveCore('-3'), -3);
  t.equal(resolveCore('0x1F'), 31);
  t.equal(resolveCore('0o17'), 15);
  t.equal(resolveCore('1.5'), 1.5);
  t.equal(resolveCore('true'), true);
  t.equal(resolveCore('FALSE'), false);
  t.equal(resolveCore('null'), null);
  t.equal(resolveCore(''), null);
  t.equal(resolveCore('yes'), 'yes', 'YAML 1.1 booleans are strings in the core schema');
  t.equal(resolveCore('080a'), '080a');
  t.equal(resolveCore('a: b'), 'a: b', 'never a collection');
});

t.test('an exact plain reference is typed; anything else stays a string', async (t) => {
  const yaml = (server: string) => withRoutes(ROUTE, `server:\n${server}`);
  let snap = snapshotOf(await loadYaml(t, yaml('  port: ${PORT:-8080}\n  workers: ${W}\n  paths:\n    mergeSlashes: ${M}'), { W: '3', M: 'false' }));
  t.same([snap.server.port, snap.server.workers, snap.server.paths.mergeSlashes], [8080, 3, false]);
  snap = snapshotOf(await loadYaml(t, yaml('  port: ${PORT:-8080}'), { PORT: '9090' }));
  t.equal(snap.server.port, 9090);
  snap = snapshotOf(await loadYaml(t, yaml('  host: ${H}\n  viaName: v${N}'), { H: 'h.local', N: '1' }));
  t.equal(snap.server.viaName, 'v1', 'mixed text is a string');
  t.same(brief(problemsOf(await loadYaml(t, yaml('  host: ${H}'), { H: '10' }))), [
    { line: 8, path: 'server.host', message: 'must be a string, got 10' },
  ], 'a typed number where a string is needed is a schema problem');
  t.same(brief(problemsOf(await loadYaml(t, yaml('  port: "${PORT}"'), { PORT: '9090' }))), [
    { line: 8, path: 'server.port', message: 'must be an integer, got "9090"' },
  ], 'quoting keeps a string');
});

t.test('interpolation reaches nested values and sequences, not keys', async (t) => {
  const yaml = `services:
  - name: \${SVC}
    instances:
      - url: http://\${HOST:-localhost}:\${PORT}/base
routes:
  - id: r
    paths:
      - /\${PREFIX}/*
    hosts: ["\${HOST_A}"]
    service: \${SVC}
`;
  const snap = snapshotOf(await loadYaml(t, yaml, { SVC: 'api', PORT: '81', PREFIX: 'v1', HOST_A: 'a.test' }));
  t.equal(snap.services[0]!.name, 'api');
  t.equal(snap.services[0]!.instances[0]!.url, 'http://localhost:81/base');
  t.same(snap.routes[0]!.paths, ['/v1/*']);
  t.same(snap.routes[0]!.hosts, ['a.test']);
  const keyed = withRoutes(ROUTE, 'server:\n  ${KEY}: 1');
  t.same(brief(problemsOf(await loadYaml(t, keyed, { KEY: 'port' }))), [
    { line: 8, path: 'server["${KEY}"]', message: 'unknown key "${KEY}"' },
  ]);
});

t.test('an escaped reference stays literal', async (t) => {
  const yaml = withRoutes('  - id: r\n    path: /x\n    service: svc\n    rewrite: /a/$${X}/${B}');
  const snap = snapshotOf(await loadYaml(t, yaml, { B: 'b' }));
  t.equal(snap.routes[0]!.rewrite, '/a/${X}/b');
});

t.test('missing variables are reported once each, at their path and line', async (t) => {
  const yaml = withRoutes(ROUTE, 'server:\n  port: ${PORT}\n  host: ${HOST}-${ZONE:-a}');
  t.same(brief(problemsOf(await loadYaml(t, yaml, {}))), [
    { line: 8, path: 'server.port', message: 'environment variable PORT is not set (use ${PORT:-value} for a default)' },
    { line: 9, path: 'server.host', message: 'environment variable HOST is not set (use ${HOST:-value} for a default)' },
  ]);
});
