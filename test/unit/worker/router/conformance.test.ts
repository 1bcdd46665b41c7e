/**
 * Router conformance suite: one table of routes and requests, run against every
 * implementation (the radix `Router` and the brute-force `LinearMatcher` oracle).
 */
import t from 'tap';
import { Router } from '../../../../src/worker/router/index.js';
import { LinearMatcher, type OracleResult, type OracleRoute } from './linear-matcher.js';

interface Impl {
  add(route: OracleRoute): void;
  find(method: string, host: string, path: string): OracleResult;
}

const implementations: Record<string, () => Impl> = {
  router: () => {
    const router = new Router<OracleRoute>();
    return {
      add: (route) => void router.add(route, route),
      find: (method, host, path) => {
        const r = router.find(method, host, path);
        if (r.kind !== 'found') return r;
        if (r.store.id !== r.routeId || !r.store.paths.includes(r.pattern.pattern)) {
          throw new Error('store/pattern do not belong to the route');
        }
        return { kind: 'found', routeId: r.routeId, params: r.params, wildcard: r.wildcard };
      },
    };
  },
  oracle: () => new LinearMatcher(),
};

type Expect = string | { id: string; params?: string[]; wildcard?: string | null } | { allow: string[] } | null;
type Req = [method: string, host: string, path: string, expect: Expect];
interface Case {
  name: string;
  routes: Partial<OracleRoute>[];
  requests: Req[];
}

const H = 'h.test';

const cases: Case[] = [
  {
    name: 'static, param, wildcard basics',
    routes: [
      { id: 'users', paths: ['/users'], methods: ['GET'] },
      { id: 'user', paths: ['/users/:id'], methods: ['GET', 'PUT'] },
      { id: 'me', paths: ['/users/me'], methods: ['GET'] },
      { id: 'files', paths: ['/files/*'] },
      { id: 'root', paths: ['/'], methods: ['GET'] },
    ],
    requests: [
      ['GET', H, '/users', 'users'],
      ['GET', H, '/users/42', { id: 'user', params: ['42'], wildcard: null }],
      ['GET', H, '/users/me', { id: 'me', params: [] }],
      ['PUT', H, '/users/me', { id: 'user', params: ['me'] }],
      ['DELETE', H, '/users/42', { allow: ['GET', 'HEAD', 'PUT'] }],
      ['HEAD', H, '/users', 'users'],
      ['GET', H, '/users/', null],
      ['GET', H, '/files', { id: 'files', wildcard: '' }],
      ['PATCH', H, '/files/a/b', { id: 'files', wildcard: 'a/b' }],
      ['GET', H, '/filesx', null],
      ['GET', H, '/', 'root'],
      ['POST', H, '/', { allow: ['GET', 'HEAD'] }],
      ['GET', H, '/nope', null],
    ],
  },
  {
    name: 'path specificity: static < param < wildcard, /api beats /api/* on /api',
    routes: [
      { id: 'api', paths: ['/api'], methods: ['GET'] },
      { id: 'api-wild', paths: ['/api/*'], methods: ['GET'] },
      { id: 'param', paths: ['/:x'], methods: ['GET'] },
      { id: 'param-wild', paths: ['/:x/*'] },
      { id: 'all', paths: ['/*'], methods: ['POST'] },
    ],
    requests: [
      ['GET', H, '/api', { id: 'api', wildcard: null }],
      ['GET', H, '/api/', { id: 'api-wild', wildcard: '' }],
      ['GET', H, '/api/x/y', { id: 'api-wild', wildcard: 'x/y' }],
      ['GET', H, '/foo', { id: 'param', params: ['foo'] }],
      ['GET', H, '/foo/bar', { id: 'param-wild', params: ['foo'], wildcard: 'bar' }],
      ['POST', H, '/api', { id: 'param-wild', params: ['api'], wildcard: '' }],
      ['POST', H, '/', { id: 'all', wildcard: '' }],
      ['GET', H, '/', { allow: ['POST'] }],
    ],
  },
  {
    name: 'host tiers: exact, longer wildcard suffix, shorter, any',
    routes: [
      { id: 'exact', paths: ['/x'], hosts: ['API.example.com'] },
      { id: 'wild', paths: ['/x'], hosts: ['*.example.com'] },
      { id: 'wild-eu', paths: ['/x'], hosts: ['*.eu.example.com'] },
      { id: 'any', paths: ['/x'] },
      { id: 'only-wild', paths: ['/only'], hosts: ['*.example.com'] },
    ],
    requests: [
      ['GET', 'api.example.com', '/x', 'exact'],
      ['GET', 'a.eu.example.com', '/x', 'wild-eu'],
      ['GET', 'a.b.eu.example.com', '/x', 'wild-eu'],
      ['GET', 'b.example.com', '/x', 'wild'],
      ['GET', 'eu.example.com', '/x', 'wild'],
      ['GET', 'example.com', '/x', 'any'],
      ['GET', 'other.org', '/x', 'any'],
      ['GET', 'example.com', '/only', null],
      ['GET', 'a.b.example.com', '/only', 'only-wild'],
    ],
  },
  {
    name: 'host tier outranks path specificity and method preference',
    routes: [
      { id: 'exact-wild', paths: ['/*'], hosts: ['a.test'], methods: ['GET'] },
      { id: 'any-static', paths: ['/a'] },
      { id: 'exact-get', paths: ['/h'], hosts: ['b.test'], methods: ['GET'] },
      { id: 'any-h', paths: ['/h'] },
    ],
    requests: [
      ['GET', 'a.test', '/a', { id: 'exact-wild', wildcard: 'a' }],
      ['POST', 'a.test', '/a', 'any-static'],
      ['HEAD', 'b.test', '/h', 'exact-get'],
      ['HEAD', 'c.test', '/h', 'any-h'],
    ],
  },
  {
    name: 'priority outranks host tier, specificity and method',
    routes: [
      { id: 'hi-any', paths: ['/a/:x'], priority: 10 },
      { id: 'lo-exact', paths: ['/a/b'], hosts: ['c.test'] },
      { id: 'hi-wild', paths: ['/a/b'], hosts: ['*.c.test'], priority: 10 },
      { id: 'p-param', paths: ['/p/:x'], priority: 1 },
      { id: 'p-static', paths: ['/p/b'] },
      { id: 'm-get', paths: ['/m'], methods: ['GET'] },
      { id: 'm-wild', paths: ['/m/*'], priority: 3 },
      { id: 'low-param', paths: ['/low/:x'], priority: -5 },
      { id: 'low-wild', paths: ['/low/*'] },
    ],
    requests: [
      ['GET', 'x.c.test', '/a/b', 'hi-wild'],
      ['GET', 'c.test', '/a/b', { id: 'hi-any', params: ['b'] }],
      ['GET', 'c.test', '/a/z', { id: 'hi-any', params: ['z'] }],
      ['GET', H, '/p/b', { id: 'p-param', params: ['b'] }],
      ['GET', H, '/m', { id: 'm-wild', wildcard: '' }],
      ['GET', H, '/low/a', { id: 'low-wild', wildcard: 'a' }],
      ['GET', H, '/low/a/b', { id: 'low-wild', wildcard: 'a/b' }],
    ],
  },
  {
    name: 'methods: exact, any, HEAD via GET; 405 unions every tier',
    routes: [
      { id: 'q-get', paths: ['/q'], methods: ['GET'] },
      { id: 'q-head', paths: ['/q'], methods: ['HEAD'] },
      { id: 'q2-get', paths: ['/q2'], methods: ['GET'] },
      { id: 'q2-post', paths: ['/q2'], methods: ['POST'] },
      { id: 'r-exact', paths: ['/r'], hosts: ['a.test'], methods: ['GET'] },
      { id: 'r-wild', paths: ['/r'], hosts: ['*.test'], methods: ['PUT'] },
      { id: 'r-any', paths: ['/r/*'], methods: ['POST'] },
    ],
    requests: [
      ['HEAD', H, '/q', 'q-head'],
      ['GET', H, '/q', 'q-get'],
      ['HEAD', H, '/q2', 'q2-get'],
      ['DELETE', H, '/q2', { allow: ['GET', 'HEAD', 'POST'] }],
      ['DELETE', 'a.test', '/r', { allow: ['GET', 'HEAD', 'POST', 'PUT'] }],
      ['DELETE', 'b.test', '/r', { allow: ['POST', 'PUT'] }],
      ['DELETE', 'other', '/r', { allow: ['POST'] }],
      ['HEAD', 'other', '/r', { allow: ['POST'] }],
      ['POST', 'a.test', '/r', { id: 'r-any', wildcard: '' }],
    ],
  },
  {
    name: 'trailing slashes, empty segments, several paths per route',
    routes: [
      { id: 'ts', paths: ['/t/'] },
      { id: 'tid', paths: ['/t/:id'] },
      { id: 'multi', paths: ['/m1/:a', '/m2/:b/x/:c'] },
    ],
    requests: [
      ['GET', H, '/t/', { id: 'ts', params: [] }],
      ['GET', H, '/t', null],
      ['GET', H, '/t/7', { id: 'tid', params: ['7'] }],
      ['GET', H, '/t//', null],
      ['GET', H, '/m1/q', { id: 'multi', params: ['q'] }],
      ['GET', H, '/m2/q/x/r', { id: 'multi', params: ['q', 'r'] }],
      ['GET', H, '/m2//x/r', null],
    ],
  },
];

function fill(r: Partial<OracleRoute>): OracleRoute {
  return { id: r.id!, paths: r.paths!, methods: r.methods ?? [], hosts: r.hosts ?? [], priority: r.priority ?? 0 };
}

function found(routeId: string, params: string[] = [], wildcard: string | null = null): OracleResult {
  return { kind: 'found', routeId, params, wildcard };
}

for (const [implName, make] of Object.entries(implementations)) {
  t.test(implName, async (t) => {
    for (const c of cases) {
      t.test(c.name, async (t) => {
        const impl = make();
        for (const r of c.routes) impl.add(fill(r));
        for (const [method, host, path, expect] of c.requests) {
          const got = impl.find(method, host, path);
          const label = `${method} ${host}${path}`;
          if (expect === null) t.same(got, { kind: 'not-found' }, label);
          else if (typeof expect === 'string') t.same(got, found(expect), label);
          else if ('allow' in expect) t.same(got, { kind: 'method-not-allowed', allow: expect.allow }, label);
          else t.same(got, found(expect.id, expect.params, expect.wildcard), label);
        }
      });
    }
  });
}
