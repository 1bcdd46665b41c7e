/**
 * CORS for one route (Fetch standard, "CORS protocol"), compiled once per snapshot.
 *
 * Preflights (OPTIONS + Origin + Access-Control-Request-Method) are answered by the
 * gateway and never reach the upstream: 204 with the allow headers when origin, method
 * and every requested header are allowed, otherwise 403 `GW_CORS_REJECTED` without any
 * CORS header (the browser then blocks the actual request). Actual requests from an
 * allowed origin get `Access-Control-Allow-Origin` (the echoed origin, or `*` for a
 * credential-less wildcard route), `-Allow-Credentials` and `-Expose-Headers`; requests
 * from other origins are still proxied (CORS protects browsers, not servers) but get no
 * CORS header. Every response of a non-wildcard route carries `Vary: Origin` so a cache
 * never serves one origin's answer to another.
 *
 * Origin entries: exact (`https://app.example.com`), a `https://*.example.com` pattern
 * (one or more labels before the suffix, same scheme and port), or `*`.
 */
import type { CorsConfig } from '../../ipc/index.js';

/** Result of evaluating a preflight: the headers to answer 204 with, or why not. */
export type PreflightResult = { ok: true; headers: Record<string, string> } | { ok: false; reason: string };

/** The CORS rules of one route. */
export class CorsPolicy {
  readonly #exact: ReadonlySet<string>;
  /** `[scheme + '://', '.' + suffix + optional ':port']` of each pattern. */
  readonly #patterns: readonly (readonly [string, string])[];
  readonly #any: boolean;
  readonly #credentials: boolean;
  readonly #methods: ReadonlySet<string>;
  readonly #methodList: string;
  readonly #headers: ReadonlySet<string>;
  readonly #anyHeader: boolean;
  readonly #expose: string;
  readonly #maxAge: string;
  /** Whether responses depend on the Origin header (everything but a plain wildcard). */
  readonly varies: boolean;

  constructor(config: CorsConfig) {
    this.#any = config.origins.includes('*');
    this.#exact = new Set(config.origins.filter((o) => o !== '*' && !o.includes('://*.')));
    this.#patterns = config.origins
      .filter((o) => o.includes('://*.'))
      .map((o) => {
        const at = o.indexOf('://*.');
        return [o.slice(0, at + 3), o.slice(at + 4)] as const;
      });
    this.#credentials = config.credentials;
    this.#methods = new Set(config.methods);
    this.#methodList = config.methods.join(', ');
    this.#headers = new Set(config.headers.map((h) => h.toLowerCase()));
    this.#anyHeader = this.#headers.has('*');
    this.#expose = config.exposeHeaders.join(', ');
    this.#maxAge = config.maxAgeSeconds > 0 ? String(config.maxAgeSeconds) : '';
    this.varies = !this.#any || this.#credentials;
  }

  /** True when `origin` (the request's Origin header) is allowed. */
  allows(origin: string): boolean {
    if (this.#any || this.#exact.has(origin)) return true;
    for (const [scheme, suffix] of this.#patterns) {
      // At least one label before the suffix, and no "/" or "@" smuggled into it.
      if (origin.length > scheme.length + suffix.length && origin.startsWith(scheme) && origin.endsWith(suffix)) {
        const label = origin.slice(scheme.length, origin.length - suffix.length);
        if (label.length > 0 && /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(label) && !label.startsWith('-')) return true;
      }
    }
    return false;
  }

  /** Headers of an actual (non-preflight) response to a request with `origin`, pushed flat. */
  pushActual(out: string[], origin: string | undefined): void {
    if (origin === undefined || !this.allows(origin)) return;
    out.push('access-control-allow-origin', this.varies ? origin : '*');
    if (this.#credentials) out.push('access-control-allow-credentials', 'true');
    if (this.#expose !== '') out.push('access-control-expose-headers', this.#expose);
  }

  /** Evaluate a preflight for `origin`, requested `method` and `requested` headers. */
  preflight(origin: string, method: string, requested: string | undefined): PreflightResult {
    if (!this.allows(origin)) return { ok: false, reason: `origin ${origin} is not allowed` };
    if (!this.#methods.has(method)) return { ok: false, reason: `method ${method} is not allowed by CORS` };
    const asked: string[] = [];
    if (requested !== undefined) {
      for (const raw of requested.split(',')) {
        const name = raw.trim().toLowerCase();
        if (name === '') continue;
        if (!this.#anyHeader && !this.#headers.has(name)) return { ok: false, reason: `request header ${name} is not allowed by CORS` };
        asked.push(name);
      }
    }
    const headers: Record<string, string> = {
      'access-control-allow-origin': this.varies ? origin : '*',
      'access-control-allow-methods': this.#methodList,
    };
    if (asked.length > 0) headers['access-control-allow-headers'] = asked.join(', ');
    if (this.#credentials) headers['access-control-allow-credentials'] = 'true';
    if (this.#maxAge !== '') headers['access-control-max-age'] = this.#maxAge;
    headers['vary'] = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
    return { ok: true, headers };
  }
}
