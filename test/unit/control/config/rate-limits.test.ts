import t from 'tap';
import { loadYaml, problemsOf, snapshotOf } from './helpers.js';

const base = (limits: string) => `services:
  - name: s
    instances: [{ url: "http://127.0.0.1:1" }]
routes:
  - id: r
    path: /r
    service: s
    rateLimits:
${limits}
`;

t.test('rate limits load into the snapshot with their keys', async (t) => {
  const snap = snapshotOf(await loadYaml(t, base(`      - { requests: 10, per: m, key: ip }\n      - { requests: 1000, per: 3600, burst: 50, key: "header:X-Api-Key" }`)));
  t.same(snap.routes[0]!.rateLimits, [
    { requests: 10, per: 'm', key: 'ip' },
    { requests: 1000, per: 3600, burst: 50, key: 'header:X-Api-Key' },
  ]);
  t.same(snapshotOf(await loadYaml(t, base('      []'))).routes[0]!.rateLimits, []);
});

t.test('bad rate limits are reported with their path, all at once', async (t) => {
  const problems = problemsOf(
    await loadYaml(t, base(`      - { requests: 10, per: w, key: ip }\n      - { requests: 0, per: s, key: ip }\n      - { requests: 5, per: s, key: "cookie:x" }\n      - { requests: 5, per: s, key: ip, brust: 9 }`)),
  );
  const paths = problems.map((p) => p.path);
  for (const i of [0, 1, 2, 3]) t.ok(paths.some((p) => p.startsWith(`routes[0].rateLimits[${i}]`)), `rateLimits[${i}] reported: ${paths.join(', ')}`);
  t.ok(problems.every((p) => typeof p.line === 'number'), 'with line numbers');
});

t.test('a limit the token bucket cannot represent exactly is refused by the semantic check', async (t) => {
  const problems = problemsOf(await loadYaml(t, base(`      - { requests: 5, per: 0.0001, key: ip }`)));
  t.equal(problems.length, 1);
  t.match(problems[0]!.path, 'routes[0].rateLimits[0]');
});

t.test('service-level limits and the header mode load; bad ones are reported at the service', async (t) => {
  const yaml = `services:
  - name: s
    instances: [{ url: "http://127.0.0.1:1" }]
    rateLimits:
      - { requests: 100, per: s, key: ip }
routes:
  - id: r
    path: /r
    service: s
    rateLimitHeaders: ietf
`;
  const snap = snapshotOf(await loadYaml(t, yaml));
  t.same(snap.services[0]!.rateLimits, [{ requests: 100, per: 's', key: 'ip' }]);
  t.equal(snap.routes[0]!.rateLimitHeaders, 'ietf');
  const badLimit = problemsOf(await loadYaml(t, yaml.replace('{ requests: 100, per: s, key: ip }', '{ requests: 5, per: 0.0001, key: ip }')));
  t.same(badLimit.map((p) => p.path), ['services[0].rateLimits[0]']);
  const badMode = problemsOf(await loadYaml(t, yaml.replace('ietf', 'x-only')));
  t.same(badMode.map((p) => p.path), ['routes[0].rateLimitHeaders']);
  t.match(badMode[0]!.message, /both.*ietf.*legacy.*none/);
});
