import t from 'tap';
import { RouteConflictError, RouteDefinitionError, Router, type RouteSpec } from '../../../../src/worker/router/index.js';

function route(id: string, over: Partial<RouteSpec> = {}): RouteSpec {
  return { id, methods: [], hosts: [], paths: ['/'], priority: 0, ...over };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

t.test('invalid host patterns throw RouteDefinitionError', async (t) => {
  for (const host of ['', 'a.*.com', '*', '*.', 'api.example.com:8080', 'http://a.com', 'a..com', '.a.com', 'a b']) {
    const e = thrown(() => new Router().add(route('r', { hosts: [host] }), 1));
    t.ok(e instanceof RouteDefinitionError, JSON.stringify(host));
    t.match(e, { code: 'GW_ROUTE_INVALID' });
  }
  t.doesNotThrow(() => new Router().add(route('r', { hosts: ['[::1]', 'localhost', '*.svc_a.local'] }), 1));
});

t.test('route-level definition errors', async (t) => {
  t.throws(() => new Router().add(route('r', { paths: [] }), 1), { code: 'GW_ROUTE_INVALID', message: /no paths/ });
  t.throws(() => new Router().add(route('r', { priority: NaN }), 1), { code: 'GW_ROUTE_INVALID' });
});

t.test('conflicts are per host and name both routes and the host', async (t) => {
  const router = new Router<number>();
  router.add(route('a', { hosts: ['Api.Example.com'], paths: ['/u/:id'] }), 1);
  router.add(route('b', { hosts: ['*.example.com'], paths: ['/u/:id'] }), 2);
  router.add(route('c', { paths: ['/u/:id'] }), 3);
  const e = thrown(() => router.add(route('d', { hosts: ['api.example.com'], paths: ['/u/:uid'], methods: ['GET'] }), 4));
  t.ok(e instanceof RouteConflictError);
  t.match((e as Error).message, /route "d" path "\/u\/:uid" conflicts with route "a" path "\/u\/:id" on host "api.example.com"/);
  t.throws(() => router.add(route('e', { paths: ['/u/:x'] }), 5), { message: /on any host/ });
});

t.test('a route conflicting with itself is refused', async (t) => {
  t.throws(() => new Router().add(route('r', { paths: ['/u/:a', '/u/:b'] }), 1), { message: /route "r" .* route "r"/ });
  t.throws(() => new Router().add(route('r', { hosts: ['a.test', 'A.test'] }), 1), RouteConflictError);
});

t.test('a failed add leaves the router unchanged', async (t) => {
  const router = new Router<string>();
  router.add(route('a', { hosts: ['b.test'], paths: ['/x'] }), 'a');
  // the first host/path pairs are fine, the last one conflicts: nothing may be registered
  t.throws(() => router.add(route('z', { hosts: ['a.test', 'b.test'], paths: ['/y', '/x'], priority: 9 }), 'z'));
  t.same(router.find('GET', 'a.test', '/y'), { kind: 'not-found' });
  t.match(router.find('GET', 'b.test', '/x'), { kind: 'found', store: 'a' });
  t.doesNotThrow(() => router.add(route('z', { hosts: ['a.test'], paths: ['/y', '/x'] }), 'z'));
});

t.test('found results carry the matched pattern to name params', async (t) => {
  const router = new Router<string>();
  const parsed = router.add(route('r', { paths: ['/a/:x', '/b/:y/:z/*'] }), 'store');
  t.same(parsed.map((p) => p.paramNames), [['x'], ['y', 'z']]);
  const r = router.find('GET', 'any.test', '/b/1/2/rest/of');
  t.match(r, { kind: 'found', store: 'store', routeId: 'r', params: ['1', '2'], wildcard: 'rest/of' });
  if (r.kind === 'found') {
    t.same(r.pattern.paramNames, ['y', 'z']);
    t.equal(r.pattern.staticPrefix, '/b');
  }
});

t.test('requests on an empty router are not found', async (t) => {
  t.same(new Router().find('GET', 'a.test', '/'), { kind: 'not-found' });
  t.same(new Router().find('GET', 'a.test', ''), { kind: 'not-found' });
});
