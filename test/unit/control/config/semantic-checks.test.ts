import t from 'tap';
import { checkCidr, normalizeInstanceUrl } from '../../../../src/control/config/semantic-checks.js';
import { Router } from '../../../../src/worker/router/index.js';
import { brief, loadYaml, problemsOf, snapshotOf, withRoutes } from './helpers.js';

// Routes start at line 6 of `withRoutes`; one flow-style route per line keeps lines obvious.
const LINE = (n: number): number => 5 + n;

/** Load routes (one YAML line each) and return their problems as `{line, path, message}`. */
async function routeProblems(t: Tap, ...routes: string[]) {
  return brief(problemsOf(await loadYaml(t, withRoutes(routes.map((r) => `  - ${r}`).join('\n')))));
}
type Tap = Parameters<typeof loadYaml>[0];

t.test('a route needs exactly one of path and paths; paths win the snapshot', async (t) => {
  t.same(await routeProblems(t, '{ id: a, service: svc }', '{ id: b, service: svc, path: /b, paths: [/c] }'), [
    { line: LINE(1), path: 'routes[0]', message: 'needs "path" or "paths"' },
    { line: LINE(2), path: 'routes[1]', message: 'has both "path" and "paths"; use one' },
  ]);
  const snap = snapshotOf(await loadYaml(t, withRoutes('  - { id: a, service: svc, paths: [/a, /b] }')));
  t.same(snap.routes[0]!.paths, ['/a', '/b']);
});

t.test('route service must exist', async (t) => {
  t.same(await routeProblems(t, '{ id: a, path: /a, service: svx }', '{ id: b, path: /b, service: svc }'), [
    { line: LINE(1), path: 'routes[0].service', message: 'unknown service "svx" (defined: svc)' },
  ]);
});

t.test('a weight under plain round-robin (which ignores weights) is refused, not silently ignored', async (t) => {
  const yaml = `services:
  - { name: s, instances: [{ url: "http://a", weight: 9 }, { url: "http://b" }] }
  - { name: w, loadBalancer: weighted-round-robin, instances: [{ url: "http://a", weight: 9 }, { url: "http://b" }] }
  - { name: r, loadBalancer: random, instances: [{ url: "http://a", weight: 9 }, { url: "http://b", weight: 1 }] }
routes: []
`;
  t.same(brief(problemsOf(await loadYaml(t, yaml))), [
    { line: 2, path: 'services[0].instances[0].weight', message: 'round-robin ignores weights (got 9); use loadBalancer: weighted-round-robin, or drop the weight' },
  ], 'only the round-robin service (the default balancer) is refused');
});

t.test('an instance listed twice in a service is refused (its canonical URL decides)', async (t) => {
  const yaml = `services:
  - { name: s, instances: [{ url: "http://a:80/" }, { url: "http://b" }, { url: "HTTP://A" }] }
routes: []
`;
  t.same(brief(problemsOf(await loadYaml(t, yaml))), [
    { line: 2, path: 'services[0].instances[2].url', message: 'duplicate instance http://a (first at instances[0]); use weight for a larger share' },
  ]);
});

t.test('route ids and service names are unique', async (t) => {
  t.same(await routeProblems(t, '{ id: a, path: /a, service: svc }', '{ id: a, path: /b, service: svc }', '{ id: c, path: /c, service: svc }'), [
    { line: LINE(2), path: 'routes[1].id', message: 'duplicate route id "a" (first at routes[0])' },
  ]);
  const yaml = `services:
  - { name: s, instances: [{ url: "http://a" }] }
  - { name: t, instances: [{ url: "http://b" }] }
  - { name: s, instances: [{ url: "http://c" }] }
routes: []
`;
  t.same(brief(problemsOf(await loadYaml(t, yaml))), [
    { line: 4, path: 'services[2].name', message: 'duplicate service name "s" (first at services[0])' },
  ]);
});

t.test('every path must parse, in the form requests are matched in', async (t) => {
  t.same(
    await routeProblems(
      t,
      '{ id: a, path: "/a/*/b", service: svc }',
      '{ id: b, paths: [/ok, "bad", "/x/:1"], service: svc }',
      '{ id: c, path: "/v1/m:predict", service: svc }',
      '{ id: d, path: "/%7Euser", service: svc }',
      '{ id: e, path: "/a%20b/~user/:id", service: svc }',
    ),
    [
      { line: LINE(1), path: 'routes[0].path', message: 'invalid path "/a/*/b": "*" is only allowed as the whole last segment' },
      { line: LINE(2), path: 'routes[1].paths[1]', message: 'invalid path "bad": must start with "/"' },
      { line: LINE(2), path: 'routes[1].paths[2]', message: 'invalid path "/x/:1": invalid param name ":1" (letters, digits and "_", not starting with a digit)' },
      { line: LINE(3), path: 'routes[2].path', message: 'invalid path "/v1/m:predict": ":" is only allowed at the start of a segment' },
      { line: LINE(4), path: 'routes[3].path', message: 'invalid path "/%7Euser": write "~" instead of "%7E" (requests are matched after decoding it)' },
    ],
  );
});

t.test('paths under the reserved prefix are refused; /* and /:x are fine', async (t) => {
  const problems = await routeProblems(
    t,
    '{ id: a, path: /__gateway, service: svc }',
    '{ id: b, path: "/__gateway/*", service: svc }',
    '{ id: c, paths: ["/__gateway/:x", /__gateway/health], service: svc }',
    '{ id: d, paths: ["/*", "/:x", /__gatewayx, /api/__gateway], service: svc }',
  );
  t.same(
    problems.map((p) => [p.line, p.path]),
    [
      [LINE(1), 'routes[0].path'],
      [LINE(2), 'routes[1].path'],
      [LINE(3), 'routes[2].paths[0]'],
      [LINE(3), 'routes[2].paths[1]'],
    ],
  );
  t.match(problems[0]!.message, /reserved prefix "\/__gateway" belongs to the gateway/);
});

t.test('conflicts: same shape, same host tier, overlapping methods', async (t) => {
  t.test('param names do not matter; both route ids are named', async (t) => {
    t.same(await routeProblems(t, '{ id: a, path: "/u/:id", service: svc }', '{ id: b, path: "/u/:uid", service: svc }'), [
      {
        line: LINE(2),
        path: 'routes[1].path',
        message: '"/u/:uid" conflicts with route "a" path "/u/:id": same pattern shape on any host for any method',
      },
    ]);
  });
  t.test('overlapping methods, including "every method"', async (t) => {
    const got = await routeProblems(
      t,
      '{ id: a, path: /x, methods: [GET, POST], service: svc }',
      '{ id: b, path: /x, methods: [POST, PUT], service: svc }',
      '{ id: c, path: /y, methods: [GET], service: svc }',
      '{ id: d, path: /y, service: svc }',
    );
    t.match(got, [
      { path: 'routes[1].path', message: /route "a" .* for method POST$/ },
      { path: 'routes[3].path', message: /route "c" .* for method GET$/ },
    ]);
  });
  t.test('disjoint methods are fine; GET and HEAD are distinct', async (t) => {
    t.same(
      await routeProblems(
        t,
        '{ id: a, path: /x, methods: [GET, HEAD], service: svc }',
        '{ id: b, path: /x, methods: [POST], service: svc }',
        '{ id: c, path: /y, methods: [GET], service: svc }',
        '{ id: d, path: /y, methods: [HEAD], service: svc }',
      ),
      [],
    );
  });
  t.test('different hosts are fine; the same host in any case conflicts', async (t) => {
    t.same(await routeProblems(t, '{ id: a, path: /x, hosts: [a.test], service: svc }', '{ id: b, path: /x, hosts: [b.test], service: svc }'), []);
    t.match(
      await routeProblems(t, '{ id: a, path: /x, hosts: [A.test, c.test], service: svc }', '{ id: b, path: /x, hosts: [a.TEST, c.test], service: svc }'),
      [{ path: 'routes[1].path', message: /route "a" path "\/x": same pattern shape on host "a.test", host "c.test" for any method/ }],
      'one problem per pair of paths, listing the hosts',
    );
  });
  t.test('host tiers: exact vs wildcard vs any host never conflict (the exact host wins)', async (t) => {
    t.same(
      await routeProblems(
        t,
        '{ id: a, path: "/u/:id", hosts: [api.example.com], service: svc }',
        '{ id: b, path: "/u/:id", hosts: ["*.example.com"], service: svc }',
        '{ id: c, path: "/u/:id", service: svc }',
      ),
      [],
    );
    t.match(
      await routeProblems(t, '{ id: a, path: /x, hosts: ["*.Example.com"], service: svc }', '{ id: b, path: /x, hosts: ["*.example.com"], service: svc }'),
      [{ path: 'routes[1].path', message: /host "\*\.example\.com"/ }],
      'the same wildcard does',
    );
  });
  t.test('priority does not separate the same shape on the same tier (the router refuses it)', async (t) => {
    t.match(
      await routeProblems(t, '{ id: a, path: "/u/:id", service: svc }', '{ id: b, path: "/u/:x", priority: 5, service: svc }'),
      [{ path: 'routes[1].path', message: /conflicts with route "a" .*\(priority does not separate/ }],
    );
    t.same(
      await routeProblems(
        t,
        '{ id: a, path: "/u/:id", service: svc }',
        '{ id: b, path: "/u/me", priority: -1, service: svc }',
        '{ id: c, path: "/u/:id", hosts: [a.test], priority: 5, service: svc }',
      ),
      [],
      'different shapes or tiers with priorities are fine',
    );
  });
  t.test('two paths of one route, and a route\'s own hosts', async (t) => {
    t.same(await routeProblems(t, '{ id: a, paths: ["/u/:a", "/u/:b"], service: svc }'), [
      { line: LINE(1), path: 'routes[0].paths[1]', message: '"/u/:b" conflicts with its own path "/u/:a": same pattern shape on any host for any method' },
    ]);
    t.same(await routeProblems(t, '{ id: a, path: /x, hosts: [a.test, A.Test], service: svc }'), [
      { line: LINE(1), path: 'routes[0].hosts[1]', message: 'duplicate of hosts[0] (hosts are case-insensitive)' },
    ]);
  });
});

t.test('rewrite templates', async (t) => {
  const got = await routeProblems(
    t,
    '{ id: a, path: "/a/:id", rewrite: "users/:id", service: svc }',
    '{ id: b, paths: ["/b/:id", "/v/:uid"], rewrite: "/users/:id", service: svc }',
    '{ id: c, paths: ["/c/*", "/g"], rewrite: "/files/*", service: svc }',
    '{ id: d, path: "/d/*", rewrite: "/x/*/*", service: svc }',
    '{ id: e, path: "/e/*", rewrite: "/a*/:9", service: svc }',
    '{ id: f, path: "/f", rewrite: "/x?q=1", service: svc }',
  );
  t.same(got, [
    { line: LINE(1), path: 'routes[0].rewrite', message: 'must start with "/"' },
    { line: LINE(2), path: 'routes[1].rewrite', message: '":id" is not a parameter of "/v/:uid"' },
    { line: LINE(3), path: 'routes[2].rewrite', message: '"*" needs every path to end with "/*"; "/g" does not' },
    { line: LINE(4), path: 'routes[3].rewrite', message: '"*" may appear only once' },
    { line: LINE(5), path: 'routes[4].rewrite', message: '"*" must be a whole segment' },
    { line: LINE(5), path: 'routes[4].rewrite', message: '":9" is not a parameter reference (a ":name" segment, name like ^[A-Za-z_][A-Za-z0-9_]*$)' },
    { line: LINE(6), path: 'routes[5].rewrite', message: 'must not contain "?", "#" or whitespace' },
  ]);
  t.same(
    await routeProblems(
      t,
      '{ id: a, paths: ["/u/:id", "/v/:id/x"], rewrite: "/users/:id", service: svc }',
      '{ id: b, paths: ["/f/:k/*", "/g/:k/*"], rewrite: "/files/:k/*", service: svc }',
      '{ id: c, path: "/z", rewrite: "/v1:z/static", service: svc }',
    ),
    [],
    'params in every path, * with every path wildcard, ":" mid-segment is literal',
  );
});

t.test('stripPrefix needs wildcard paths and no rewrite', async (t) => {
  t.same(
    await routeProblems(
      t,
      '{ id: a, paths: ["/a/*", "/b"], stripPrefix: true, service: svc }',
      '{ id: b, path: "/c/*", stripPrefix: true, rewrite: "/x/*", service: svc }',
      '{ id: c, paths: ["/d/*", "/e/:id/*"], stripPrefix: true, service: svc }',
    ),
    [
      { line: LINE(1), path: 'routes[0].paths[1]', message: '"stripPrefix: true" needs every path to end with "/*"; "/b" does not' },
      { line: LINE(2), path: 'routes[1].stripPrefix', message: 'cannot be combined with "rewrite"' },
    ],
  );
});

t.test('instance urls: http(s), no credentials, query or fragment; normalized', async (t) => {
  const yaml = `services:
  - name: s
    instances:
      - url: ftp://a
      - url: http://u:p@a
      - url: "http://a/?x=1"
      - url: "http://a/#top"
      - url: not a url
      - url: http://a?
      - url: HTTPS://Api.Test:443/v1/
routes: []
`;
  t.same(
    brief(problemsOf(await loadYaml(t, yaml))).map((p) => [p.line, p.path]),
    [4, 5, 6, 7, 8, 9].map((line, i) => [line, `services[0].instances[${i}].url`]),
  );
  t.same(normalizeInstanceUrl('HTTPS://Api.Test:443/v1/'), { url: 'https://api.test/v1' });
  t.same(normalizeInstanceUrl('http://[::1]:8080'), { url: 'http://[::1]:8080' });
  t.same(normalizeInstanceUrl('http://a//'), { url: 'http://a' });
  t.match(normalizeInstanceUrl('ftp://a'), { reason: /protocol must be http or https/ });
  t.match(normalizeInstanceUrl('http://u@a'), { reason: /credentials/ });
  t.match(normalizeInstanceUrl('http://a?'), { reason: /query string/ });
  t.match(normalizeInstanceUrl('http://a#'), { reason: /fragment/ });
  t.match(normalizeInstanceUrl('a:b'), { reason: /protocol/ });
  t.match(normalizeInstanceUrl('//a'), { reason: /not a URL/ });
});

t.test('trusted proxies are IPs or CIDRs', async (t) => {
  for (const ok of ['10.0.0.0/8', '192.168.1.7', '0.0.0.0/0', '::1', 'fd00::/8', '::ffff:10.0.0.1/128', '10.1.2.3/32']) {
    t.equal(checkCidr(ok), null, ok);
  }
  for (const bad of ['foo', '10.0.0.0/33', '::/129', '10.0.0.1/', '1.2.3.4/8/9', '1.2.3/8', '010.0.0.1', 'fe80::1%eth0', '10.0.0.0/+8', ' 10.0.0.1', '10.0.0.0/08']) {
    t.type(checkCidr(bad), 'string', bad);
  }
  const yaml = withRoutes('  - { id: r, path: /x, service: svc }', 'server:\n  trustedProxies: [10.0.0.0/8, 10.0.0.0/40, "::1", nope]');
  t.same(brief(problemsOf(await loadYaml(t, yaml))), [
    { line: 8, path: 'server.trustedProxies[1]', message: '"10.0.0.0/40": prefix length must be 0..32' },
    { line: 8, path: 'server.trustedProxies[3]', message: '"nope" is not an IP address or CIDR (like 10.0.0.0/8 or fd00::/8)' },
  ]);
});

t.test('all semantic problems are reported together', async (t) => {
  const got = await routeProblems(
    t,
    '{ id: a, path: "/u/:id", service: nope }',
    '{ id: a, path: "/__gateway/x", service: svc }',
    '{ id: c, path: "/u/:x", rewrite: "/:y", service: svc }',
  );
  t.same(
    got.map((p) => p.path),
    ['routes[0].service', 'routes[1].id', 'routes[1].path', 'routes[2].path', 'routes[2].rewrite'],
  );
});

t.test('the loader accepts exactly the route sets the worker router can build', async (t) => {
  // The router is the oracle: whatever the loader accepts must build, and vice versa.
  type Spec = { id: string; paths: string[]; methods?: string[]; hosts?: string[]; priority?: number };
  const cases: Spec[][] = [
    [{ id: 'a', paths: ['/u/:id'] }, { id: 'b', paths: ['/u/:x'] }],
    [{ id: 'a', paths: ['/u/:id'] }, { id: 'b', paths: ['/u/:x'], priority: 9 }],
    [{ id: 'a', paths: ['/u/:id'] }, { id: 'b', paths: ['/u/:x'], hosts: ['a.test'], priority: 9 }],
    [{ id: 'a', paths: ['/x'], hosts: ['a.test'] }, { id: 'b', paths: ['/x'], hosts: ['*.test'] }],
    [{ id: 'a', paths: ['/x'], hosts: ['A.test'] }, { id: 'b', paths: ['/x'], hosts: ['a.TEST'] }],
    [{ id: 'a', paths: ['/x'], methods: ['GET'] }, { id: 'b', paths: ['/x'], methods: ['HEAD'] }],
    [{ id: 'a', paths: ['/x'], methods: ['GET'] }, { id: 'b', paths: ['/x'] }],
    [{ id: 'a', paths: ['/x', '/:y'] }, { id: 'b', paths: ['/*'] }],
    [{ id: 'a', paths: ['/:y', '/:z'] }],
    [{ id: 'a', paths: ['/a/*'], hosts: ['b.test', 'c.test'] }, { id: 'b', paths: ['/a/*'], hosts: ['c.test'], methods: ['PUT'] }],
  ];
  for (const specs of cases) {
    const yaml = withRoutes(specs.map((s) => `  - ${JSON.stringify({ ...s, service: 'svc' })}`).join('\n'));
    const accepted = (await loadYaml(t, yaml)).ok;
    let built = true;
    try {
      const router = new Router<number>();
      specs.forEach((s, i) => router.add({ methods: [], hosts: [], priority: 0, ...s }, i));
    } catch {
      built = false;
    }
    t.equal(accepted, built, specs.map((s) => JSON.stringify(s)).join(' + '));
  }
});

t.test('websocket routes: off by default, need GET among their methods; tunnels idle out after 5 min by default', async (t) => {
  t.same(await routeProblems(t, '{ id: a, path: /a, service: svc, websocket: true, methods: [POST] }', '{ id: b, path: /b, service: svc, websocket: true, methods: [GET, POST] }', '{ id: c, path: /c, service: svc, websocket: yes }'), [
    { line: LINE(1), path: 'routes[0].websocket', message: "needs GET among the route's methods (the WebSocket handshake is a GET); it has POST" },
    { line: LINE(3), path: 'routes[2].websocket', message: 'must be true or false, got "yes"' },
  ]);
  const snap = snapshotOf(await loadYaml(t, withRoutes('  - { id: a, service: svc, path: /a }\n  - { id: b, service: svc, path: /b, websocket: true }')));
  t.same(snap.routes.map((r) => r.websocket), [false, true]);
  t.equal(snap.services[0]!.timeouts.tunnelIdleMs, 300_000);
});
