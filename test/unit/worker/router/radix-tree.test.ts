import t from 'tap';
import {
  RadixTree,
  RouteConflictError,
  RouteDefinitionError,
  parsePattern,
} from '../../../../src/worker/router/index.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

t.test('malformed patterns throw RouteDefinitionError naming the pattern', async (t) => {
  const bad: [string, RegExp][] = [
    ['api', /must start with/],
    ['/api/*/x', /whole last segment/],
    ['/api*', /whole last segment/],
    ['/a/b*', /whole last segment/],
    ['/a/x:id', /start of a segment/],
    ['/a/:', /empty param name/],
    ['/a/:1x', /param name/],
    ['/a/:id-x', /param name/],
    ['/a/:id/b/:id', /duplicate param name "id"/],
    ['/a//b', /empty segment/],
    ['/a/../b', /dot segment/],
    ['/a/%2e', /canonical/],
    ['/a b', /space/],
    ['/caf\xe9', /non-ASCII/],
  ];
  for (const [pattern, reason] of bad) {
    const tree = new RadixTree<string>();
    const e = thrown(() => tree.add(pattern, [], 'x', 'r1'));
    t.ok(e instanceof RouteDefinitionError, `${pattern} throws RouteDefinitionError`);
    t.match(e, { code: 'GW_ROUTE_INVALID', pattern, message: reason });
    t.match((e as Error).message, `"${pattern}"`, 'message names the pattern');
    t.equal(tree.size, 0, `${pattern} left the tree untouched`);
  }
});

t.test('parsePattern reports names, wildcard, static prefix and shape', async (t) => {
  t.match(parsePattern('/api/*'), { paramNames: [], hasWildcard: true, staticPrefix: '/api', shape: 'api/*' });
  t.match(parsePattern('/*'), { hasWildcard: true, staticPrefix: '' });
  t.match(parsePattern('/'), { hasWildcard: false, staticPrefix: '' });
  t.match(parsePattern('/u/:id/p/:pid'), { paramNames: ['id', 'pid'], staticPrefix: '/u', shape: 'u/:/p/:' });
  t.match(parsePattern('/a/b/'), { staticPrefix: '/a/b' });
  t.equal(parsePattern('/u/:id').shape, parsePattern('/u/:uid').shape, 'param names erased from shape');
});

t.test('same shape with overlapping methods conflicts, naming both ids', async (t) => {
  const tree = new RadixTree<string>();
  tree.add('/u/:id', ['GET'], 'a', 'users-get');
  const e = thrown(() => tree.add('/u/:uid', ['POST', 'GET'], 'b', 'users-any'));
  t.ok(e instanceof RouteConflictError);
  t.match(e, { code: 'GW_ROUTE_CONFLICT', existingRouteId: 'users-get', routeId: 'users-any' });
  t.equal(
    (e as Error).message,
    'route "users-any" path "/u/:uid" conflicts with route "users-get" path "/u/:id": ' +
      'same pattern shape and overlapping methods (GET)',
  );
  t.throws(() => tree.add('/u/:x', [], 'c', 'any'), RouteConflictError, 'any-method overlaps everything');
  t.doesNotThrow(() => tree.add('/u/:x', ['POST'], 'd', 'post'), 'disjoint methods coexist');
  t.doesNotThrow(() => tree.add('/u', [], 'e', 'u-any'), 'different shape');
  t.doesNotThrow(() => tree.add('/u/*', [], 'f', 'u-wild'), '/u/* does not conflict with /u');
  t.equal(tree.find('POST', '/u/1')?.store, 'd');
  t.equal(tree.find('GET', '/u/1')?.store, 'a', 'failed adds left no trace');
  t.equal(tree.find('PUT', '/u/1')?.store, 'f', 'falls back to the wildcard');
});

t.test('params are positional, in pattern order', async (t) => {
  const tree = new RadixTree<string>();
  const parsed = tree.add('/org/:org/repo/:repo/issues/:n', [], 'x', 'r');
  t.same(parsed.paramNames, ['org', 'repo', 'n']);
  t.same(tree.find('GET', '/org/acme/repo/gw/issues/7'), {
    store: 'x',
    routeId: 'r',
    params: ['acme', 'gw', '7'],
    wildcard: null,
  });
  t.equal(tree.find('GET', '/org//repo/gw/issues/7'), null, 'a param never matches an empty segment');
  t.equal(tree.find('GET', '/org/acme/repo/gw/issues/7/'), null, 'trailing slash is a different path');
});

t.test('wildcard values', async (t) => {
  const tree = new RadixTree<string>();
  tree.add('/api/*', [], 'api', 'api');
  tree.add('/*', [], 'all', 'all');
  tree.add('/u/:id/*', [], 'u', 'u');
  t.same(tree.find('GET', '/api'), { store: 'api', routeId: 'api', params: [], wildcard: '' }, '/api/* matches /api');
  t.equal(tree.find('GET', '/api/')?.wildcard, '', '/api/* matches /api/');
  t.equal(tree.find('GET', '/api/a/b/c')?.wildcard, 'a/b/c', 'rest includes slashes');
  t.same(tree.find('GET', '/apix')?.store, 'all', '/api/* does not match /apix');
  t.same(tree.find('GET', '/')?.wildcard, '', '/* matches /');
  t.same(tree.find('GET', '/x/y')?.wildcard, 'x/y');
  t.same(tree.find('GET', '/u/7'), { store: 'u', routeId: 'u', params: ['7'], wildcard: '' });
  t.same(tree.find('GET', '/u/7/a/b'), { store: 'u', routeId: 'u', params: ['7'], wildcard: 'a/b' });
  t.equal(tree.find('GET', 'no-slash'), null, 'lookup never throws on odd input');
  t.equal(tree.find('GET', ''), null);
});

t.test('static beats param beats wildcard, with backtracking', async (t) => {
  const tree = new RadixTree<string>();
  tree.add('/a/b/c', [], 'static', 'static');
  tree.add('/a/:x/d', [], 'param', 'param');
  tree.add('/a/*', [], 'wild', 'wild');
  tree.add('/a', ['GET'], 'bare', 'bare');
  t.equal(tree.find('GET', '/a/b/c')?.store, 'static');
  t.same(tree.find('GET', '/a/b/d')?.params, ['b'], 'backtracks from the static edge into the param');
  t.equal(tree.find('GET', '/a/b/e')?.store, 'wild', 'backtracks to the wildcard');
  t.equal(tree.find('GET', '/a')?.store, 'bare', 'static /a beats /a/* on /a');
  t.equal(tree.find('POST', '/a')?.store, 'wild', '/a/* takes the methods /a lacks');
});

t.test('method preference at a leaf: exact, any, then HEAD via GET', async (t) => {
  const tree = new RadixTree<string>();
  tree.add('/m', ['GET'], 'get', 'get');
  tree.add('/m', ['POST'], 'post', 'post');
  t.equal(tree.find('HEAD', '/m')?.store, 'get', 'HEAD served by GET');
  t.equal(tree.find('PUT', '/m'), null);
  t.throws(() => tree.add('/m', [], 'any', 'any-other'), RouteConflictError, 'any-method overlaps');
});

t.test('method preference with an any-method store', async (t) => {
  const tree = new RadixTree<string>();
  tree.add('/m', ['GET'], 'get', 'get');
  tree.add('/n', [], 'any', 'any');
  tree.add('/n/*', ['GET'], 'n-get', 'n-get');
  t.equal(tree.find('HEAD', '/n')?.store, 'any', 'any-method beats HEAD via GET');
  t.equal(tree.find('HEAD', '/m')?.store, 'get');
  tree.add('/h', ['GET'], 'h-get', 'h-get');
  tree.add('/h', ['HEAD'], 'h-head', 'h-head');
  t.equal(tree.find('HEAD', '/h')?.store, 'h-head', 'exact HEAD beats GET');
  t.equal(tree.find('GET', '/h')?.store, 'h-get');
});

t.test('allowedMethods unions all matching leaves and flags any-method', async (t) => {
  const tree = new RadixTree<string>();
  tree.add('/a/:x', ['POST'], 'p', 'p');
  tree.add('/a/b', ['GET'], 'g', 'g');
  tree.add('/a/*', ['DELETE'], 'd', 'd');
  tree.add('/z/*', [], 'z', 'z');
  t.same(tree.allowedMethods('/a/b'), { anyMethod: false, methods: ['DELETE', 'GET', 'HEAD', 'POST'] });
  t.same(tree.allowedMethods('/a/c'), { anyMethod: false, methods: ['DELETE', 'POST'] });
  t.same(tree.allowedMethods('/z'), { anyMethod: true, methods: [] });
  t.same(tree.allowedMethods('/nope'), { anyMethod: false, methods: [] });
});

t.test('findBest picks the highest rank, earliest on ties', async (t) => {
  const tree = new RadixTree<{ id: string; rank: number }>();
  tree.add('/a/b', [], { id: 'static', rank: 0 }, 'static');
  tree.add('/a/:x', [], { id: 'param', rank: 5 }, 'param');
  tree.add('/a/*', [], { id: 'wild', rank: 5 }, 'wild');
  t.equal(tree.findBest('GET', '/a/b', (s) => s.rank)?.store.id, 'param');
  t.same(tree.findBest('GET', '/a/b', () => 0)?.store.id, 'static', 'equal ranks keep find order');
  t.same(tree.findBest('GET', '/a/b', (s) => s.rank)?.params, ['b'], 'params copied per candidate');
});

t.test('edge splits keep existing routes reachable', async (t) => {
  const tree = new RadixTree<string>();
  const paths = ['/abc/def', '/abc', '/ab', '/abd/:x', '/abc/d', '/a/*', '/abc/def/'];
  for (const p of paths) tree.add(p, [], p, p);
  t.equal(tree.find('GET', '/abc/def')?.store, '/abc/def');
  t.equal(tree.find('GET', '/abc')?.store, '/abc');
  t.equal(tree.find('GET', '/ab')?.store, '/ab');
  t.equal(tree.find('GET', '/abd/q')?.store, '/abd/:x');
  t.equal(tree.find('GET', '/abc/d')?.store, '/abc/d');
  t.equal(tree.find('GET', '/abc/def/')?.store, '/abc/def/');
  t.equal(tree.find('GET', '/a')?.store, '/a/*');
  t.equal(tree.find('GET', '/abc/de'), null);
  t.equal(tree.size, paths.length);
});
