/**
 * Property: on random route sets and random requests, the radix `Router` and the
 * brute-force `LinearMatcher` agree on every lookup (route id, params, wildcard, 405
 * allow list) and on which registrations conflict. Static segments come from a tiny
 * alphabet so that shapes collide, prefixes share radix edges and backtracking happens.
 */
import fc from 'fast-check';
import t from 'tap';
import { RouteConflictError, Router } from '../../../../src/worker/router/index.js';
import { LinearMatcher, OracleConflict, type OracleResult, type OracleRoute } from './linear-matcher.js';

const WORDS = ['a', 'b', 'ab', 'abc', 'ba'];
const METHODS = ['GET', 'HEAD', 'POST'];
const ROUTE_HOSTS = ['x.test', 'a.x.test', '*.x.test', '*.a.x.test', 'y.test'];
const REQUEST_HOSTS = ['x.test', 'a.x.test', 'b.a.x.test', 'c.x.test', 'y.test', 'z.test'];

type Seg = { kind: 'static'; word: string } | { kind: 'param' };

const segArb: fc.Arbitrary<Seg> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...WORDS).map((word) => ({ kind: 'static' as const, word })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'param' as const }) },
);

/** `/seg/seg…` plus an optional tail: nothing, `/` (trailing slash) or `/*`. */
const patternArb = fc
  .tuple(fc.array(segArb, { maxLength: 3 }), fc.constantFrom('', '', '/', '/*'))
  .map(([segs, tail]) => {
    let n = 0;
    const body = segs.map((s) => (s.kind === 'static' ? s.word : `:p${n++}`)).join('/');
    if (body === '') return tail === '/*' ? '/*' : '/';
    return '/' + body + tail;
  });

const routeArb = fc.record({
  paths: fc.array(patternArb, { minLength: 1, maxLength: 2 }),
  methods: fc.oneof(
    { weight: 1, arbitrary: fc.constant([]) },
    { weight: 3, arbitrary: fc.subarray(METHODS, { minLength: 1 }) },
  ),
  hosts: fc.oneof(
    { weight: 2, arbitrary: fc.constant([]) },
    { weight: 3, arbitrary: fc.subarray(ROUTE_HOSTS, { minLength: 1, maxLength: 2 }) },
  ),
  priority: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -1, max: 2 }) },
  ),
});

const pathArb = fc
  .tuple(fc.array(fc.constantFrom(...WORDS, 'x', ''), { maxLength: 5 }), fc.boolean())
  .map(([parts, slash]) => '/' + parts.join('/') + (slash && parts.length > 0 ? '/' : ''));

const requestArb = fc.tuple(fc.constantFrom(...METHODS, 'PUT'), fc.constantFrom(...REQUEST_HOSTS), pathArb);

const routeSetArb = fc.array(routeArb, { minLength: 1, maxLength: 8 });
const requestsArb = fc.array(requestArb, { minLength: 1, maxLength: 25 });

function viaRouter(router: Router<OracleRoute>, method: string, host: string, path: string): OracleResult {
  const r = router.find(method, host, path);
  if (r.kind !== 'found') return r;
  return { kind: 'found', routeId: r.routeId, params: r.params, wildcard: r.wildcard };
}

t.test('Router agrees with the linear oracle on lookups and conflicts', async (t) => {
  let lookups = 0;
  let conflicts = 0;
  let found = 0;
  let notAllowed = 0;
  fc.assert(
    fc.property(routeSetArb, requestsArb, (routes, requests) => {
      const router = new Router<OracleRoute>();
      const oracle = new LinearMatcher();
      routes.forEach((r, i) => {
        const route: OracleRoute = { id: `r${i}`, ...r };
        let oracleThrew = false;
        let routerThrew = false;
        try {
          oracle.add(route);
        } catch (e) {
          if (!(e instanceof OracleConflict)) throw e;
          oracleThrew = true;
        }
        try {
          router.add(route, route);
        } catch (e) {
          if (!(e instanceof RouteConflictError)) throw e;
          routerThrew = true;
        }
        if (oracleThrew !== routerThrew) {
          throw new Error(`conflict disagreement on ${JSON.stringify(route)}: oracle ${oracleThrew}, router ${routerThrew}`);
        }
        if (routerThrew) conflicts++; // both unchanged: the router's add is all-or-nothing
      });
      for (const [method, host, path] of requests) {
        const want = oracle.find(method, host, path);
        const got = viaRouter(router, method, host, path);
        lookups++;
        if (want.kind === 'found') found++;
        if (want.kind === 'method-not-allowed') notAllowed++;
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          throw new Error(`${method} ${host}${path}: router ${JSON.stringify(got)} oracle ${JSON.stringify(want)}`);
        }
      }
    }),
    { numRuns: 4000 },
  );
  t.pass(`${lookups} lookups agree (${found} found, ${notAllowed} 405), ${conflicts} conflicts agree`);
  // Guard against a generator that stopped exercising the interesting outcomes.
  t.ok(found > lookups / 10, 'a fair share of lookups match');
  t.ok(notAllowed > 0 && conflicts > 0, '405s and conflicts are exercised');
});
