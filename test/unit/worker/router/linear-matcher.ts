/**
 * Oracle for the router: a brute-force linear matcher. It shares no code with the
 * radix tree; it filters every registration against the request and sorts candidates
 * by the documented total order (priority, host tier, path specificity, method). If it
 * ever finds two candidates the order cannot tell apart, it throws: that would mean
 * the order is not total and "agreement" with the tree would be luck.
 */

/** The matching-relevant part of a route, as the router takes it. */
export interface OracleRoute {
  readonly id: string;
  readonly methods: readonly string[];
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
  readonly priority: number;
}

/** Lookup result in the shape the tests compare. */
export type OracleResult =
  | { kind: 'found'; routeId: string; params: string[]; wildcard: string | null }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/** Thrown by `add` when a registration duplicates shape + host with shared methods. */
export class OracleConflict extends Error {}

interface Registration {
  readonly route: OracleRoute;
  readonly host: string | null; // lower-case pattern, null = any host
  readonly segs: readonly string[];
  readonly shape: string;
  readonly methods: readonly string[];
}

interface Candidate {
  readonly reg: Registration;
  readonly params: string[];
  readonly wildcard: string | null;
  readonly key: readonly number[];
}

const ANY_HOST_TIER = [2, 0];
const SPEC_LENGTH = 32; // longer than any pattern the tests use

/** Brute-force router with the same contract as `Router` (minus stores). */
export class LinearMatcher {
  #regs: Registration[] = [];

  /** Register a route; all-or-nothing, throws `OracleConflict` on a duplicate. */
  add(route: OracleRoute): void {
    const methods = [...new Set(route.methods)];
    const hosts = route.hosts.length === 0 ? [null] : route.hosts.map((h) => h.toLowerCase());
    const added: Registration[] = [];
    for (const host of hosts) {
      for (const path of route.paths) {
        const segs = path.slice(1).split('/');
        const shape = segs.map((s) => (s.startsWith(':') ? ':' : s)).join('/');
        const reg = { route, host, segs, shape, methods };
        for (const other of [...this.#regs, ...added]) {
          if (other.host === host && other.shape === shape && overlaps(other.methods, methods)) {
            throw new OracleConflict(`${route.id} conflicts with ${other.route.id}`);
          }
        }
        added.push(reg);
      }
    }
    this.#regs.push(...added);
  }

  /** Route a request by filtering and sorting every registration. */
  find(method: string, hostname: string, path: string): OracleResult {
    const candidates: Candidate[] = [];
    const allow = new Set<string>();
    for (const reg of this.#regs) {
      const tier = hostTier(reg.host, hostname);
      if (tier === null) continue;
      const m = matchPath(reg.segs, path);
      if (m === null) continue;
      for (const x of reg.methods) allow.add(x);
      const mRank = methodRank(reg.methods, method);
      if (mRank === null) continue;
      const key = [-reg.route.priority, ...tier, ...m.spec, mRank];
      candidates.push({ reg, params: m.params, wildcard: m.wildcard, key });
    }
    if (candidates.length === 0) {
      if (allow.size === 0) return { kind: 'not-found' };
      if (allow.has('GET')) allow.add('HEAD');
      return { kind: 'method-not-allowed', allow: [...allow].sort() };
    }
    candidates.sort((a, b) => compareKeys(a.key, b.key));
    if (candidates.length > 1 && compareKeys(candidates[0]!.key, candidates[1]!.key) === 0) {
      throw new Error(`ambiguous: ${candidates[0]!.reg.route.id} vs ${candidates[1]!.reg.route.id}`);
    }
    const best = candidates[0]!;
    return { kind: 'found', routeId: best.reg.route.id, params: best.params, wildcard: best.wildcard };
  }
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  return a.length === 0 || b.length === 0 || a.some((m) => b.includes(m));
}

/** [tier, tie-break] or null: exact 0, wildcard 1 (longer suffix first), any host 2. */
function hostTier(pattern: string | null, hostname: string): number[] | null {
  if (pattern === null) return ANY_HOST_TIER;
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return hostname.endsWith(suffix) && hostname.length > suffix.length ? [1, -suffix.length] : null;
  }
  return pattern === hostname ? [0, 0] : null;
}

/** Exact method 0, any-method 1, HEAD served by GET 2, else no match. */
function methodRank(methods: readonly string[], method: string): number | null {
  if (methods.includes(method)) return 0;
  if (methods.length === 0) return 1;
  if (method === 'HEAD' && methods.includes('GET')) return 2;
  return null;
}

/**
 * Segment-wise match. `spec` lists the segment kinds (static 0, param 1, wildcard 2);
 * the end of a pattern ranks -1 (so `/api` beats `/api/*` on `/api`). Padded to a fixed
 * length so that keys of patterns of different lengths compare position by position.
 */
function matchPath(segs: readonly string[], path: string): { params: string[]; wildcard: string | null; spec: number[] } | null {
  const parts = path.slice(1).split('/');
  const wild = segs[segs.length - 1] === '*';
  const fixed = wild ? segs.length - 1 : segs.length;
  if (wild ? parts.length < fixed : parts.length !== fixed) return null;
  if (wild && fixed === 0 && parts.length === 0) return null;
  const params: string[] = [];
  const spec: number[] = [];
  for (let i = 0; i < fixed; i++) {
    const s = segs[i]!;
    const p = parts[i]!;
    if (s.startsWith(':')) {
      if (p === '') return null;
      params.push(p);
      spec.push(1);
    } else {
      if (s !== p) return null;
      spec.push(0);
    }
  }
  if (wild) spec.push(2);
  while (spec.length < SPEC_LENGTH) spec.push(-1);
  const wildcard = wild ? parts.slice(fixed).join('/') : null;
  return { params, wildcard, spec };
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
