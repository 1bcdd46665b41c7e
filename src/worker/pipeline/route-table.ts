/**
 * The worker's view of one config snapshot: a router whose stores are route targets
 * (route config + upstream service + compiled rewrite). Built off to the side and
 * swapped in with one assignment, so a request sees either the old table or the new.
 */
import type { ConfigSnapshot, EndpointState, RateLimitConfig, RouteConfig } from '../../ipc/index.js';
import { Router } from '../router/index.js';
import { RoutePolicy, type ResponseHeaderPolicy } from '../policies/index.js';
import { RequestGuard } from './request-guard.js';
import { PoolSet, UpstreamService } from '../upstream/index.js';

/** A piece of a compiled rewrite template. */
type RewritePart = { readonly text: string } | { readonly param: string } | { readonly wildcard: true };

/** What a matched route resolves to. */
export interface RouteTarget {
  readonly route: RouteConfig;
  readonly service: UpstreamService;
  /** Compiled `rewrite`, or null. */
  readonly rewrite: readonly RewritePart[] | null;
  /** Route limits, CORS and response headers (policies/route-policy.ts). */
  readonly policy: RoutePolicy;
  /** The route's limits, then its service's, with the bucket-key prefix of each. */
  readonly limits: readonly ScopedLimit[];
  /** Of `limits`, those keyed by address or header: charged before authentication. */
  readonly preAuth: readonly ScopedLimit[];
  /** Of `limits`, those keyed by API key or subject: charged after it. */
  readonly postAuth: readonly ScopedLimit[];
}

/** Limits keyed by who the caller is (they need the identity, so they follow auth). */
export const isIdentityKey = (key: string): boolean => key === 'api-key' || key === 'subject';

/** A rate limit and the bucket family it charges (route-scoped or service-scoped). */
export interface ScopedLimit {
  readonly limit: RateLimitConfig;
  /** `<route id>#<i>` or `svc:<service>#<i>` (route ids cannot contain ':'). */
  readonly bucket: string;
}

/** Compile `/v2/:id/*` into literal, param and wildcard parts. */
export function compileRewrite(template: string): RewritePart[] {
  const parts: RewritePart[] = [];
  for (const [i, seg] of template.split('/').entries()) {
    const prefix = i === 0 ? '' : '/';
    if (seg.startsWith(':')) parts.push({ text: prefix }, { param: seg.slice(1) });
    else if (seg === '*') parts.push({ text: prefix }, { wildcard: true });
    else parts.push({ text: prefix + seg });
  }
  return parts;
}

/** Render a compiled rewrite with the matched params (`names` positional to `values`). */
export function renderRewrite(
  parts: readonly RewritePart[],
  names: readonly string[],
  values: readonly string[],
  wildcard: string | null,
): string {
  let out = '';
  for (const p of parts) {
    if ('text' in p) out += p.text;
    else if ('param' in p) out += values[names.indexOf(p.param)] ?? '';
    else out += wildcard ?? '';
  }
  return out;
}

/** The routing state of one snapshot. */
export class RouteTable {
  readonly snapshot: ConfigSnapshot;
  readonly router: Router<RouteTarget>;
  /** The table's services by name. */
  readonly services: ReadonlyMap<string, UpstreamService>;
  /** Method allowlist and request checks of this snapshot. */
  readonly guard: RequestGuard;
  /** Server-wide security headers for responses no route produced (404, 400 ...). */
  readonly errorHeaders: Readonly<Record<string, string>>;
  readonly #serverHeaders: ResponseHeaderPolicy;

  /** Build from `snapshot`, reusing `pools`; throws if the snapshot cannot be routed. */
  constructor(snapshot: ConfigSnapshot, pools: PoolSet) {
    this.snapshot = snapshot;
    this.guard = new RequestGuard(snapshot.server);
    this.#serverHeaders = new RoutePolicy(null, snapshot.server).headers;
    this.errorHeaders = this.#serverHeaders.record(undefined, false, null);
    const generation = pools.prepare(snapshot.services.flatMap((s) => UpstreamService.poolKeys(s)));
    try {
      const services = new Map(snapshot.services.map((s) => [s.name, new UpstreamService(s, generation.poolFor)]));
      const router = new Router<RouteTarget>();
      for (const route of snapshot.routes) {
        const service = services.get(route.service);
        if (service === undefined) throw new Error(`route ${route.id}: unknown service ${route.service}`);
        const limits: ScopedLimit[] = [
          ...route.rateLimits.map((limit, i) => ({ limit, bucket: `${route.id}#${i}` })),
          ...(snapshot.services.find((s) => s.name === route.service)?.rateLimits ?? []).map((limit, i) => ({
            limit,
            bucket: `svc:${route.service}#${i}`,
          })),
        ];
        const rewrite = route.rewrite === null ? null : compileRewrite(route.rewrite);
        const preAuth = limits.filter((l) => !isIdentityKey(l.limit.key));
        const postAuth = limits.filter((l) => isIdentityKey(l.limit.key));
        router.add(route, { route, service, rewrite, limits, preAuth, postAuth, policy: new RoutePolicy(route, snapshot.server) });
      }
      this.router = router;
      this.services = services;
    } catch (err) {
      generation.rollback();
      throw err;
    }
    generation.commit();
  }

  /** Apply node-wide endpoint state pushed by the primary (unknown services are skipped). */
  applyEndpointStates(states: Iterable<EndpointState>): void {
    for (const st of states) this.services.get(st.service)?.applyShared(st.url, st);
  }

  /** Server-wide headers for a response no route produced; HSTS when `https(req)`. */
  errorHeadersFor<R>(req: R, https: (req: R) => boolean): Readonly<Record<string, string>> {
    return this.#serverHeaders.usesHttps && https(req) ? this.#serverHeaders.record(undefined, true, null) : this.errorHeaders;
  }
}
