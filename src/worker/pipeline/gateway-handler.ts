/**
 * The per-request path of a worker: validate the request line and limits, normalise the
 * path, answer the reserved prefix, route, pick an endpoint and hand the exchange to
 * undici. Everything here runs for every request, so it allocates little and never
 * awaits; errors become the JSON error body and an access-log line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { breakerState, type RateLimitConfig, type RateLimitVerdict } from '../../ipc/index.js';
import {
  AuthError,
  AuthUnavailableError,
  BadRequestError,
  ClientAddressForbiddenError,
  headerCount,
  GatewayError,
  HeadersTooLargeError,
  InternalError,
  MetricsUnavailableError,
  RateLimitedError,
  MethodNotAllowedError,
  StatusUnavailableError,
  AdminForbiddenError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UriTooLongError,
  unmapIPv4,
} from '../../common/index.js';
import { methodLabel, requestTraceOf, statusClass, type DataPlaneMetrics, type Logger, type RequestTracer } from '../../telemetry/index.js';
import { normalizePath, type RouteLookup } from '../router/index.js';
import { ClientCertificates, clientAddress, connectionIsTls, forwardedClient, effectiveLimits, limitKeyOf, rateLimitHeaders, requestIsHttps, type AuthPolicy, type Identity, type RateLimitAsk } from '../policies/index.js';
import { HeaderNames, UpstreamCall, asksForWebSocket, type HandshakeWait, queuedBehindAnother, upstreamRequestHeaders, type CallHooks, type ExchangeOutcome } from '../upstream/index.js';
import { BodyLimit } from './body-limit.js';
import { hostnameOf } from './client-host.js';
import { httpsLocation } from './https-redirect.js';
import { declaresBody, expectsContinue, hasUnreadBody } from './unread-body.js';
import { answerPreflight } from './preflight.js';
import { RequestIds } from './request-id.js';
import { isIdentityKey, renderRewrite, type RouteTable, type RouteTarget, type ScopedLimit } from './route-table.js';
import { sendError, sendJson } from './send-error.js';
import { TrustedProxies } from './trusted-proxies.js';

/** Node-level state reported on /ready, pushed by the primary. */
export interface NodeStatus {
  workersUp: number;
  workersWanted: number;
  configVersion: number;
}

/** Fields of one access-log line that depend on how far the request got. */
interface LogFields {
  route: string | null;
  upstream: string | null;
  service: string | null;
  /** Upstream tries made (0 when none was sent). */
  tries: number;
  /** Who authenticated (null: nobody, or not yet). */
  identity: Identity | null;
  /** The client address, taken while `req.socket` is sure to be there (access log on), else null. */
  client: string | null;
}

const NO_LIMITS: readonly ScopedLimit[] = [];
const NO_ROUTE: LogFields = { route: null, upstream: null, service: null, tries: 0, identity: null, client: null };
/** A request pipelined behind an answer that closes the connection: never answered, never forwarded. */
const PIPELINE_DROPPED: ExchangeOutcome = { status: 499, bytes: 0, errorCode: 'GW_PIPELINE_DROPPED' };
const CLIENT_CLOSED: ExchangeOutcome = { status: 499, bytes: 0, errorCode: 'GW_CLIENT_CLOSED' };
// RFC 9110 §9.2.2: repeating these has the same effect as sending them once.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
// Route label for requests no route matched, and for the gateway's own endpoints.
const UNMATCHED = '(none)';
const RESERVED = '(gateway)';

/** A request that matched a route, carried from routing to forwarding. */
interface Matched {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly started: number;
  readonly target: string;
  readonly q: number;
  readonly path: string;
  readonly found: Extract<RouteLookup<RouteTarget>, { kind: 'found' }>;
  readonly fields: LogFields;
  /** Set by the auth step: who is calling, and the raw headers to send upstream (null: the client's). */
  readonly identity: Identity | null;
  readonly raw: string[] | null;
  /** Limits charged so far and their verdicts (for the response headers); null: none yet. */
  rl: { limits: RateLimitConfig[]; verdicts: RateLimitVerdict[] } | null;
}


/** Report a breaker event of `url` (an instance of `service`) to the primary. */
export type OutlierReport = (service: string, url: string, event: 'eject' | 'recover') => void;

/** The node status document, fetched through the primary; null when it did not answer. */
export type StatusFn = () => Promise<unknown>;

/** The node-wide metrics page, as text (fetched through the primary). */
export type ScrapeFn = () => Promise<{ text: string; contentType: string }>;

/** Handles requests against the current route table; swap tables with `setTable`. */
export class GatewayHandler {
  #table: RouteTable;
  #trusted: TrustedProxies;
  /** Peers allowed to read /metrics and /status. */
  #admin: TrustedProxies;
  /** Callers whose sampled flag is followed: trusted proxies and loopback. */
  #traceTrusted: TrustedProxies;
  #via: string;
  #auth: AuthPolicy | null;
  #draining = false;
  /** The normalized path of the request being routed right now (for the access log of errors thrown). */
  #routingPath: string | null = null;
  readonly #logger: Logger;
  /** The access log (null: off). Its own level, so LOG_LEVEL=warn quiets the rest, not this. */
  readonly #accessLog: Logger | null;
  readonly #slot: number;
  readonly #metrics: DataPlaneMetrics;
  readonly #scrape: ScrapeFn;
  readonly #nodeStatus: StatusFn | null;
  readonly #rateLimit: RateLimitAsk;
  readonly #callHooks: CallHooks;
  readonly #tracer: RequestTracer | null;
  readonly #requestIds = new RequestIds();
  readonly #headerNames = new HeaderNames();
  /** Connections whose current answer closes them (see `handle`). */
  readonly #closing = new WeakSet<Socket>();
  /** The stream the proxy reads of each chunked request body in flight. */
  readonly #chunkedBodies = new WeakMap<IncomingMessage, BodyLimit>();
  /** Requests whose body turned out malformed before they were forwarded, with llhttp's reason. */
  readonly #malformedBodies = new WeakMap<IncomingMessage, string>();
  /** WebSocket handshakes being served (see tunnel()): the bytes the client sent after each. */
  readonly #tunnelEarly = new WeakMap<IncomingMessage, HandshakeWait>();
  readonly status: NodeStatus;
  readonly #isDraining = () => this.#draining;
  readonly #isHttps = (req: IncomingMessage) => requestIsHttps(req, this.#trusted);
  readonly #clientCerts = new ClientCertificates();

  constructor(
    table: RouteTable,
    opts: {
      logger: Logger;
      accessLog: boolean;
      slot: number;
      metrics: DataPlaneMetrics;
      scrape: ScrapeFn;
      rateLimit: RateLimitAsk;
      /** Tell the primary about a local ejection/recovery (null: standalone, keep it local). */
      reportOutlier?: OutlierReport;
      /** The node-wide status document (services, breaker state, limiter store). */
      status?: StatusFn;
      auth?: AuthPolicy | null;
      /** Null (tracing off): no spans, trace headers pass through untouched. */
      tracer?: RequestTracer | null;
    },
  ) {
    this.#table = table;
    this.#auth = opts.auth ?? null;
    this.#trusted = new TrustedProxies(table.snapshot.server.trustedProxies);
    this.#admin = new TrustedProxies(table.snapshot.server.adminAllow);
    this.#traceTrusted = traceTrustOf(table);
    this.#via = `1.1 ${table.snapshot.server.viaName}`;
    this.#logger = opts.logger;
    // LOG_LEVEL=silent still means nothing at all.
    this.#accessLog = opts.accessLog && opts.logger.level !== 'silent' ? opts.logger.child({}, { level: 'info' }) : null;
    this.#slot = opts.slot;
    this.#metrics = opts.metrics;
    this.#scrape = opts.scrape;
    this.#rateLimit = opts.rateLimit;
    this.#nodeStatus = opts.status ?? null;
    const m = opts.metrics;
    const report = opts.reportOutlier ?? null;
    this.#callHooks = {
      tryDone: (service, outcome, seconds) => {
        m.upstreamTries.inc([service.name, outcome]);
        m.upstreamDuration.observe([service.name], seconds);
      },
      retry: (service, result) => m.retries.inc([service.name, result]),
      outlier: (service, endpoint, event) => {
        m.outlierEvents.inc([service.name, event]);
        opts.logger.warn(
          // This worker's own view, relative like the primary's node-wide line (which may count differently).
          {
            service: service.name,
            upstream: endpoint.authority,
            event,
            localEjections: endpoint.outlier.ejections,
            ejectedForMs: endpoint.outlier.ejectedUntil === 0 ? null : Math.max(0, endpoint.outlier.ejectedUntil - Date.now()),
          },
          event === 'eject' ? 'outlier detection ejected an upstream instance' : 'upstream instance recovered (half-open probe succeeded)',
        );
        report?.(service.name, endpoint.url, event);
      },
    };
    this.#tracer = opts.tracer ?? null;
    this.status = { workersUp: 0, workersWanted: 0, configVersion: table.snapshot.version };
  }

  /** Exchanges begun and not yet logged (open tunnels included). */
  get inFlight(): number {
    return this.#metrics.inFlight;
  }

  /** The table requests are served from. */
  get table(): RouteTable {
    return this.#table;
  }

  /** Serve new requests from `table` (and its auth policy); requests in flight finish on the old one. */
  setTable(table: RouteTable, auth: AuthPolicy | null = null): void {
    this.#auth = auth;
    this.#trusted = new TrustedProxies(table.snapshot.server.trustedProxies);
    this.#admin = new TrustedProxies(table.snapshot.server.adminAllow);
    this.#traceTrusted = traceTrustOf(table);
    this.#via = `1.1 ${table.snapshot.server.viaName}`;
    this.#table = table;
  }

  /**
   * Whether `req`, an Upgrade request Node handed over with its socket, is a WebSocket
   * handshake to tunnel: a bodiless GET asking for `websocket` on a route that allows
   * it, while not draining. Anything else (another protocol, a route without
   * `websocket`, a request the pipeline will refuse) is served as a plain request with
   * `Upgrade` dropped, as without WebSocket support; the pipeline reports its errors.
   */
  wantsTunnel(req: IncomingMessage): boolean {
    // RFC 9110 §7.8: an Upgrade in an HTTP/1.0 request is ignored.
    if (this.#draining || req.method !== 'GET' || req.httpVersion !== '1.1' || !asksForWebSocket(req.headers.upgrade)) return false;
    // Without a key the upstream's 101 could not be checked (see UpstreamCall.upgraded).
    if (typeof req.headers['sec-websocket-key'] !== 'string') return false;
    if (declaresBody(req)) return false;
    try {
      const url = req.url ?? '/';
      const target = url.charCodeAt(0) === 0x2f ? url : originFormOf(url, req.headers.host);
      const q = target.indexOf('?');
      const normalized = normalizePath(q === -1 ? target : target.slice(0, q), this.#table.snapshot.server.paths);
      if (!normalized.ok) return false;
      const found = this.#table.router.find('GET', hostnameOf(req.headers.host), normalized.path);
      return found.kind === 'found' && found.store.route.websocket;
    } catch {
      return false;
    }
  }

  /**
   * Serve a WebSocket handshake (see wantsTunnel) through the whole pipeline; `res` is a
   * response on the handshake's socket that closes it when written. Once the upstream
   * answers 101 the call joins the sockets, passing `early` (what the client sent after
   * its handshake) upstream first.
   */
  tunnel(req: IncomingMessage, res: ServerResponse, early: HandshakeWait): void {
    this.#tunnelEarly.set(req, early);
    this.handle(req, res);
  }

  /** Answer `req` with `Connection: close`, and drop what is pipelined behind it. */
  #closeAfter(req: IncomingMessage, res: ServerResponse): void {
    res.shouldKeepAlive = false;
    // `req.socket` is null once undici is done with the request body; `res.socket` then.
    const socket = req.socket ?? res.socket;
    if (socket !== null) this.#closing.add(socket);
  }

  /**
   * The HTTP parser found a framing error in the body of `res`'s request (a bad chunk size,
   * a bare LF) before any answer was sent: answer it 400 and close, as nginx and Envoy do,
   * instead of cutting the connection. The upstream try in flight fails with that error
   * (its request is aborted, never completed); a request still waiting for auth or a rate
   * limit verdict is answered when it would be forwarded. False: nothing to answer.
   */
  bodyMalformed(res: ServerResponse, reason: string): boolean {
    const req = res.req;
    // Framing errors are a chunked body's; anything else is not this method's to answer.
    if (res.headersSent || req === undefined || req.headers['transfer-encoding'] === undefined) return false;
    res.shouldKeepAlive = false;
    const err = new BadRequestError(`malformed request body: ${reason}`);
    const body = this.#chunkedBodies.get(req);
    // Not yet wrapped: not forwarded yet (every chunked body is wrapped when it is).
    if (body !== undefined) body.destroy(err);
    else this.#malformedBodies.set(req, reason);
    return true;
  }

  /** Why a request that waited (auth, rate limit) has no connection left to answer on. */
  #cutOff(req: IncomingMessage): ExchangeOutcome {
    // The gateway closed it after an answer in front of this one, or the client went away.
    return this.#closing.has(req.socket) ? PIPELINE_DROPPED : CLIENT_CLOSED;
  }

  /** From now on every response asks the client to close its connection. */
  startDraining(): void {
    this.#draining = true;
  }

  /** The `request` listener. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const requestId = this.#requestIds.for(req.headers['x-request-id']);
    // Node parses (and hands us) pipelined requests while the one before them is still
    // being answered. Behind an answer that closes the connection their own answers are
    // never written, so they must not be sent upstream either: a POST would take effect
    // with its client never told. Logged and counted, like every request.
    if (this.#closing.has(req.socket)) {
      this.#metrics.inFlight++;
      return this.#done(req, requestId, started, req.url ?? '', NO_ROUTE, PIPELINE_DROPPED);
    }
    if (this.#draining) this.#closeAfter(req, res);
    this.#metrics.inFlight++;
    this.#tracer?.start(req, res, this.#traceTrusted.has(req.socket.remoteAddress));
    this.#routingPath = null;
    try {
      this.#route(req, res, requestId, started);
    } catch (err) {
      if (!(err instanceof GatewayError)) this.#logger.error({ err, requestId }, 'unexpected error while handling a request');
      const gwErr = err instanceof GatewayError ? err : new InternalError(err);
      // A malformed request (two Hosts, a target that disagrees with Host, a bad path)
      // closes its connection like the guard's 400s: what follows it on the socket cannot
      // be trusted to be a separate request (RFC 9112 §6.3).
      if (gwErr.status === 400 || !res.shouldKeepAlive) this.#closeAfter(req, res);
      this.#fail(req, res, requestId, started, gwErr, NO_ROUTE, this.#table.errorHeadersFor(req, this.#isHttps), this.#routingPath);
    }
  }

  #route(req: IncomingMessage, res: ServerResponse, requestId: string, started: number): void {
    const server = this.#table.snapshot.server;
    this.#table.guard.check(req, res);
    const url = req.url ?? '/';
    if (url.length > server.limits.maxUrlBytes) throw new UriTooLongError(server.limits.maxUrlBytes);
    if (req.rawHeaders.length > server.limits.maxHeaderCount * 2) {
      throw new HeadersTooLargeError(`more than ${server.limits.maxHeaderCount} request headers`);
    }
    // RFC 9112 §3.2: more than one Host is a 400.
    if (headerCount(req.rawHeaders, 'host') > 1) throw new BadRequestError('more than one Host header');
    // RFC 9110 §9.3.7: `OPTIONS *` asks about the server itself, not a resource.
    if (url === '*' && req.method === 'OPTIONS') return this.#serverOptions(req, res, requestId, started);
    const target = url.charCodeAt(0) === 0x2f ? url : originFormOf(url, req.headers.host);
    const q = target.indexOf('?');
    const normalized = normalizePath(q === -1 ? target : target.slice(0, q), server.paths);
    if (!normalized.ok) throw new BadRequestError(`invalid request path: ${normalized.reason}`);
    const path = normalized.path;
    // Read by handle()'s catch (synchronously, so one field serves every request).
    this.#routingPath = path;
    const prefix = server.reservedPrefix;
    if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f)) {
      this.#reserved(req, res, requestId, started, path.slice(prefix.length));
      return;
    }

    const method = req.method!;
    if (method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      const pre = answerPreflight(this.#table, req, res, requestId, path, this.#via, this.#isHttps, this.#trusted);
      if (pre !== null) return this.#done(req, requestId, started, path, { route: pre.route, upstream: null, service: pre.service, tries: 0, identity: null, client: null }, pre.outcome);
    }
    const found = this.#table.router.find(method, hostnameOf(req.headers.host), path);
    if (found.kind === 'not-found') throw new RouteNotFoundError();
    if (found.kind === 'method-not-allowed') throw new MethodNotAllowedError(found.allow);
    const { route, service, policy } = found.store;
    // undici drops `req.socket` once it has read a request body: take the address now.
    const client = this.#accessLog === null ? null : clientAddress(req, this.#trusted);
    const fields: LogFields = { route: route.id, upstream: null, service: service.name, tries: 0, identity: null, client };
    // First of all: a refused address gets nothing else (no redirect, no auth challenge).
    if (policy.ipRestriction !== null && !policy.ipRestriction.admits(forwardedClient(req, this.#trusted))) {
      // Do not read (and discard) its upload: close after the answer.
      if (hasUnreadBody(req)) this.#closeAfter(req, res);
      return this.#fail(req, res, requestId, started, new ClientAddressForbiddenError(), fields, policy.headers.record(req.headers.origin, policy.headers.usesHttps && this.#isHttps(req), null), path);
    }
    // Before auth and limits: nothing more should travel in the clear.
    if (route.httpsRedirect === true && !this.#isHttps(req)) return this.#redirectToHttps(req, res, requestId, started, target, path, fields, found.store);
    const tooLarge = policy.limitError(req, url);
    if (tooLarge !== null) {
      return this.#fail(req, res, requestId, started, tooLarge, fields, policy.headers.record(req.headers.origin, policy.headers.usesHttps && this.#isHttps(req), null), path);
    }
    const ctx: Matched = { req, res, requestId, started, target, q, path, found, fields, identity: null, raw: null, rl: null };
    const auth = this.#auth;
    if (auth === null && route.auth !== undefined && route.auth !== null) {
      // Never fail open: a route that asks for auth is not served without the policy.
      throw new InternalError(new Error(`route ${route.id} requires auth but no auth policy is loaded`));
    }
    // Limits keyed by address or header come first, so failed authentications are limited
    // too (credential guessing, floods of tokens that are expensive to verify).
    const preAuth = found.store.preAuth;
    if (preAuth.length === 0) {
      if (auth === null) this.#afterAuth(ctx);
      else this.#authenticate(ctx, auth);
      return;
    }
    this.#charge(ctx, preAuth, () => (auth === null ? this.#afterAuth(ctx) : this.#authenticate(ctx, auth)));
  }

  /** Auth, then the identity-keyed limits (they need to know who calls); see policies/auth. */
  #authenticate(ctx: Matched, auth: AuthPolicy): void {
    const { req, res, requestId, started, fields } = ctx;
    const outcome = auth.admit(req, ctx.found.store.route, { requestId, target: ctx.target, q: ctx.q, client: () => clientAddress(req, this.#trusted) });
    const next = (a: Awaited<typeof outcome>): void => {
      if (a instanceof AuthError) {
        // Do not read (and discard) the upload of a refused request: close after the answer.
        if (hasUnreadBody(req)) this.#closeAfter(req, res);
        let challenge: Record<string, string> | null = null;
        if (a.challenge !== null) challenge = { 'www-authenticate': a.challenge };
        else if (a instanceof AuthUnavailableError && a.retryAfterSeconds !== null) challenge = { 'retry-after': String(a.retryAfterSeconds) };
        this.#fail(req, res, requestId, started, a, fields, this.#routeHeaders(ctx, this.#limitHeaders(ctx, challenge)), ctx.path);
        return;
      }
      // Same shape as the context #route builds (no spread), so the later steps stay monomorphic.
      this.#afterAuth({ req, res, requestId, started, target: a.target, q: a.q, path: ctx.path, found: ctx.found, fields, identity: a.identity, raw: a.raw, rl: ctx.rl });
    };
    if (!(outcome instanceof Promise)) return next(outcome);
    outcome.then((a) => {
      if (res.destroyed || req.socket.destroyed) return this.#done(req, requestId, started, ctx.path, fields, this.#cutOff(req));
      if (this.#draining) this.#closeAfter(req, res);
      next(a);
    }).catch((err: unknown) => {
      this.#logger.error({ err, requestId }, 'auth handling failed');
      if (!res.headersSent) this.#fail(req, res, requestId, started, new InternalError(err), fields, this.#routeHeaders(ctx, null), ctx.path);
    });
  }

  /** The identity-keyed limits (an API key's own limit replaces the route's), then forward. */
  #afterAuth(ctx: Matched): void {
    const identity = ctx.identity;
    ctx.fields.identity = identity;
    const post = identity === null ? NO_LIMITS : identity.rateLimit == null ? ctx.found.store.postAuth : this.#withOwnLimit(ctx, identity);
    if (post.length === 0) this.#forward(ctx, this.#limitHeaders(ctx, null));
    else this.#charge(ctx, post, () => this.#forward(ctx, this.#limitHeaders(ctx, null)));
  }

  /** Identity-keyed limits for a key with a limit of its own (replacing or joining the route's `api-key` limits). */
  #withOwnLimit(ctx: Matched, identity: Identity): ScopedLimit[] {
    const { route, limits: scoped } = ctx.found.store;
    const post: ScopedLimit[] = [];
    const routeLimits = effectiveLimits(route.rateLimits, identity);
    for (let i = 0; i < routeLimits.length; i++) {
      if (isIdentityKey(routeLimits[i]!.key)) post.push({ limit: routeLimits[i]!, bucket: `${route.id}#${i}` });
    }
    for (let i = route.rateLimits.length; i < scoped.length; i++) if (isIdentityKey(scoped[i]!.limit.key)) post.push(scoped[i]!);
    return post;
  }

  /**
   * Charge `scoped` limits (one IPC round trip to the primary, all or nothing), then
   * `next()`; a refusal answers 429. Verdicts accumulate on `ctx` for the headers.
   * Callers skip it when there is nothing to charge (no closure for `next` then).
   */
  #charge(ctx: Matched, scoped: readonly ScopedLimit[], next: () => void): void {
    const { req, res, requestId, started, path, fields } = ctx;
    const route = ctx.found.store.route;
    const identity = ctx.identity;
    const limits = scoped.map((s) => s.limit);
    const checks = scoped.map(({ limit, bucket }) => ({
      limit: { requests: limit.requests, per: limit.per, ...(limit.burst === undefined ? {} : { burst: limit.burst }) },
      key: `${bucket}|${limitKeyOf(limit.key, req, this.#trusted, identity)}`,
    }));
    this.#rateLimit(checks).then(
      (verdicts) => {
        // A queued pipelined response never reports `destroyed`; its socket does.
        if (res.destroyed || req.socket.destroyed) return this.#done(req, requestId, started, path, fields, this.#cutOff(req));
        if (this.#draining) this.#closeAfter(req, res);
        if (verdicts === null || verdicts.length !== limits.length) {
          // Fail open: the primary (which owns the node-wide buckets) did not answer.
          this.#metrics.rateLimitDecisions.inc([route.id, 'fail_open']);
          this.#logger.warn({ requestId, route: route.id }, 'rate limiter unavailable; request let through');
          return next();
        }
        if (ctx.rl === null) ctx.rl = { limits, verdicts };
        else (ctx.rl.limits.push(...limits), ctx.rl.verdicts.push(...verdicts));
        const allowed = verdicts.every((v) => v.allowed);
        this.#metrics.rateLimitDecisions.inc([route.id, allowed ? 'allowed' : 'limited']);
        if (allowed) return next();
        // Do not read (and discard) an upload we refused: close after the 429 instead.
        if (hasUnreadBody(req)) this.#closeAfter(req, res);
        const bytes = sendError(res, new RateLimitedError(), requestId, this.#via, this.#routeHeaders(ctx, this.#limitHeaders(ctx, null)));
        this.#done(req, requestId, started, path, fields, { status: 429, bytes, errorCode: 'GW_RATE_LIMITED' });
      },
    ).catch((err: unknown) => {
      this.#logger.error({ err, requestId }, 'rate-limit handling failed');
      if (!res.headersSent) this.#fail(req, res, requestId, started, new InternalError(err), fields, this.#routeHeaders(ctx, null), path);
    });
  }

  /** Rate-limit response headers for what was charged (merged into `extra`), or `extra`. */
  #limitHeaders(ctx: Matched, extra: Record<string, string> | null): Record<string, string> | null {
    if (ctx.rl === null) return extra;
    const headers = rateLimitHeaders(ctx.rl.limits, ctx.rl.verdicts, ctx.found.store.route.rateLimitHeaders);
    return extra === null ? headers : { ...headers, ...extra };
  }

  /** The route's security/CORS headers around `extra`, for answers the gateway writes itself. */
  #routeHeaders(ctx: Matched, extra: Record<string, string> | null): Readonly<Record<string, string>> | null {
    const policy = ctx.found.store.policy;
    const secure = policy.headers.usesHttps && this.#isHttps(ctx.req);
    return policy.headers.record(ctx.req.headers.origin, secure, extra);
  }

  /** Proxy a matched (and admitted) request; `extra` headers go on the response. */
  #forward(ctx: Matched, extra: Record<string, string> | null): void {
    const { req, res, requestId, started, target, q, path, found, fields } = ctx;
    // Checked again after the awaits (auth, rate limit): meanwhile an answer in front of this
    // one may have decided to close the connection, or a drain began (every answer closes),
    // so this one could never be written. Then it must not take effect upstream either.
    const socket = req.socket;
    if (queuedBehindAnother(socket, res) && (this.#draining || this.#closing.has(socket))) {
      return this.#done(req, requestId, started, path, fields, PIPELINE_DROPPED);
    }
    const { route, service, policy } = found.store;
    const method = req.method!;
    const secure = policy.headers.usesHttps && this.#isHttps(req);
    const origin = req.headers.origin;
    let body: NodeJS.ReadableStream | null = null;
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    // Only chunked bodies have framing to get wrong (see bodyMalformed).
    const malformed = chunked ? this.#malformedBodies.get(req) : undefined;
    if (malformed !== undefined) {
      this.#closeAfter(req, res);
      return this.#fail(req, res, requestId, started, new BadRequestError(`malformed request body: ${malformed}`), fields, policy.headers.record(origin, secure, extra), path);
    }
    const maxBody = policy.maxBodyBytes;
    if (length !== undefined && maxBody > 0 && Number(length) > maxBody) {
      this.#closeAfter(req, res); // do not read a body we refused
      this.#fail(req, res, requestId, started, new PayloadTooLargeError(maxBody), fields, policy.headers.record(origin, secure, extra), path);
      return;
    }
    if (chunked) {
      // Always wrapped: the wrapper is also how a framing error found later in the body
      // reaches the proxy as a 400 (see bodyMalformed).
      const counted = BodyLimit.wrap(req, maxBody);
      this.#chunkedBodies.set(req, counted);
      body = counted;
    }
    else if (length !== undefined && length !== '0') body = req;
    // Every check passed: now the client may send its body.
    if (body !== null && expectsContinue(req)) res.writeContinue();

    let upstreamPath: string;
    if (found.store.rewrite !== null) {
      upstreamPath = renderRewrite(found.store.rewrite, found.pattern.paramNames, found.params, found.wildcard);
    } else if (route.stripPrefix) upstreamPath = '/' + (found.wildcard ?? '');
    else upstreamPath = path;
    if (q !== -1) upstreamPath += target.slice(q);

    const remoteAddress = req.socket.remoteAddress ?? '';
    const tls = connectionIsTls(req);
    const headers = upstreamRequestHeaders(ctx.raw ?? req.rawHeaders, {
      remoteAddress,
      trusted: this.#trusted.has(remoteAddress),
      proto: tls ? 'https' : 'http',
      // Only on a mutual-TLS listener: elsewhere a trusted proxy's XFCC passes (see forward-headers.ts).
      clientCert: tls && this.#table.snapshot.server.tls?.clientAuth != null ? this.#clientCerts.forwardValue(req.socket) : undefined,
      requestId,
      via: this.#via,
      upstreamHost: route.preserveHost ? (req.headers.host ?? null) : null,
    });
    const via = this.#via;
    const call = new UpstreamCall(req, res, {
      service,
      retryable: route.retryable || IDEMPOTENT.has(method),
      method,
      path: upstreamPath,
      headers,
      body: body as Readable | null,
      requestId,
      via,
      closeConnection: this.#isDraining,
      extraHeaders: extra,
      responseHeaders: policy.headers.forRequest(origin, secure),
      sendError: (r, err) => {
        if (err instanceof PayloadTooLargeError || err instanceof BadRequestError || this.#draining) this.#closeAfter(req, r);
        return sendError(r, err, requestId, via, policy.headers.record(origin, secure, extra));
      },
      done: (outcome, call) => {
        fields.upstream = call.lastEndpoint?.authority ?? null;
        fields.tries = call.tries;
        this.#done(req, requestId, started, path, fields, outcome);
      },
      hooks: this.#callHooks,
      headerNames: this.#headerNames,
      trace: this.#tracer === null ? null : (requestTraceOf(req) ?? null),
      tunnel: req.headers.upgrade === undefined ? null : (this.#tunnelEarly.get(req) ?? null),
    });
    // undici listens to the body only once a connection takes the request: while the try
    // waits in the pool's queue, a body error (413, a malformed chunk, a client gone) would
    // be thrown. It fails the call instead (a 413 or 400 at once, even while queued).
    if (body !== null && body !== req) (body as BodyLimit).on('error', (err: Error) => call.bodyFailed(err));
    call.start();
  }

  /** `/health` (liveness), `/ready` (readiness) under the reserved prefix. */
  #reserved(req: IncomingMessage, res: ServerResponse, requestId: string, started: number, sub: string): void {
    const fields: LogFields = { route: RESERVED, upstream: null, service: null, tries: 0, identity: null, client: null };
    if (sub !== '/health' && sub !== '/ready' && sub !== '/metrics' && sub !== '/status') throw new RouteNotFoundError();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(['GET', 'HEAD']);
    // Operational detail (topology, upstream addresses, counts) only for allowed peers;
    // the TCP peer decides, never a forwarded header a client could write.
    // Behind a trusted proxy (nginx on the same host) the proxy is the peer of every client:
    // judge the client it speaks for instead.
    if ((sub === '/metrics' || sub === '/status') && !this.#admin.has(clientAddress(req, this.#trusted))) {
      throw new AdminForbiddenError(sub);
    }
    if (sub === '/status') {
      const local = this.#localStatus();
      const ask = this.#nodeStatus;
      if (ask === null) {
        const bytes = sendJson(res, 200, { status: 'standalone', worker: local }, requestId, this.#table.errorHeadersFor(req, this.#isHttps));
        return this.#done(req, requestId, started, req.url ?? '', fields, { status: 200, bytes, errorCode: null });
      }
      ask().then(
        (doc) => {
          if (res.destroyed) return this.#done(req, requestId, started, '', fields, { status: 499, bytes: 0, errorCode: 'GW_CLIENT_CLOSED' });
          if (doc === null || typeof doc !== 'object') {
            return this.#fail(req, res, requestId, started, new StatusUnavailableError('the primary did not answer in time'), fields);
          }
          const bytes = sendJson(res, 200, { ...(doc as object), worker: local }, requestId, this.#table.errorHeadersFor(req, this.#isHttps));
          this.#done(req, requestId, started, req.url ?? '', fields, { status: 200, bytes, errorCode: null });
        },
      ).catch((err: unknown) => this.#logger.error({ err, requestId }, 'answering a status request failed'));
      return;
    }
    if (sub === '/metrics') {
      this.#scrape().then(
        ({ text, contentType }) => {
          if (res.destroyed) return this.#done(req, requestId, started, '', fields, { status: 499, bytes: 0, errorCode: 'GW_CLIENT_CLOSED' });
          const head = req.method === 'HEAD';
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'x-request-id': requestId });
          res.end(head ? undefined : text);
          this.#done(req, requestId, started, req.url ?? '', fields, { status: 200, bytes: head ? 0 : Buffer.byteLength(text), errorCode: null });
        },
        (err: Error) => {
          this.#logger.error({ err, requestId }, 'metrics scrape failed');
          if (res.destroyed) return this.#done(req, requestId, started, '', fields, { status: 499, bytes: 0, errorCode: 'GW_CLIENT_CLOSED' });
          this.#fail(req, res, requestId, started, new MetricsUnavailableError(err.message), fields);
        },
      ).catch((err: unknown) => this.#logger.error({ err, requestId }, 'answering a metrics scrape failed'));
      return;
    }
    let status = 200;
    let doc: unknown;
    if (sub === '/health') {
      doc = { status: 'ok', pid: process.pid, slot: this.#slot, configVersion: this.#table.snapshot.version };
    } else {
      const state = this.#draining ? 'draining' : 'ready';
      if (this.#draining) status = 503;
      doc = {
        status: state,
        configVersion: this.#table.snapshot.version,
        workersUp: this.status.workersUp,
        workersWanted: this.status.workersWanted,
      };
    }
    const bytes = sendJson(res, status, doc, requestId, this.#table.errorHeadersFor(req, this.#isHttps));
    this.#done(req, requestId, started, req.url ?? '', fields, { status, bytes, errorCode: null });
  }

  /** 308 to the same URL over HTTPS (see https-redirect.ts). */
  #redirectToHttps(req: IncomingMessage, res: ServerResponse, requestId: string, started: number, target: string, path: string, fields: LogFields, store: RouteTarget): void {
    const server = this.#table.snapshot.server;
    const location = httpsLocation(req.headers.host, target, server.tls === undefined || server.tls === null ? 443 : server.port);
    if (location === null) throw new BadRequestError('a redirect to HTTPS needs a Host header with a host name');
    // The body is not wanted here: close after the answer rather than read it.
    if (hasUnreadBody(req)) this.#closeAfter(req, res);
    const headers = store.policy.headers.record(req.headers.origin, false, { location, 'content-length': '0', via: this.#via, 'x-request-id': requestId });
    res.writeHead(308, headers);
    res.end();
    this.#done(req, requestId, started, path, fields, { status: 308, bytes: 0, errorCode: null });
  }

  /** `OPTIONS *`: the methods this server accepts at all, no body. */
  #serverOptions(req: IncomingMessage, res: ServerResponse, requestId: string, started: number): void {
    const headers = this.#table.errorHeadersFor(req, this.#isHttps);
    res.writeHead(200, { ...headers, allow: this.#table.guard.allow.join(', '), 'content-length': '0', via: this.#via, 'x-request-id': requestId });
    res.end();
    this.#done(req, requestId, started, '*', { route: RESERVED, upstream: null, service: null, tries: 0, identity: null, client: null }, { status: 200, bytes: 0, errorCode: null });
  }

  /** This worker's own view: in-flight counts and its local breaker state. */
  #localStatus(): unknown {
    const now = Date.now();
    return {
      slot: this.#slot,
      pid: process.pid,
      configVersion: this.#table.snapshot.version,
      services: [...this.#table.services.values()].map((s) => ({
        name: s.name,
        active: s.active,
        pending: s.pending,
        retriesActive: s.retriesActive,
        panic: s.detector.panic(now),
        endpoints: s.endpoints.map((e) => ({
          url: e.url,
          active: e.active,
          breaker: breakerState(e.outlier.ejectedUntil, now),
          healthy: e.outlier.healthy,
        })),
      })),
    };
  }

  #fail(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    started: number,
    err: GatewayError,
    fields: LogFields,
    extra: Readonly<Record<string, string>> | null = null,
    /** Normalized path for the access log (null: the raw target, e.g. a path that did not normalize). */
    path: string | null = null,
  ): void {
    // Draining: every answer asks the client to go, the gateway's own errors too. A client
    // refused while it waits for 100 Continue may send its body or not: only closing the
    // connection keeps what it sends next from being read as a request.
    if (this.#draining || (expectsContinue(req) && hasUnreadBody(req))) this.#closeAfter(req, res);
    const bytes = res.headersSent ? 0 : sendError(res, err, requestId, this.#via, extra);
    this.#done(req, requestId, started, path ?? req.url ?? '', fields, { status: err.status, bytes, errorCode: err.code });
  }

  /**
   * A request the HTTP parser refused before any request object existed (400 malformed,
   * 431 headers too large, 408 headers not received in time), answered by the server:
   * counted and logged like every other request, with what little is known.
   */
  parserRefused(socket: Socket, requestId: string, status: number, errorCode: string, detail: string, bytes: number, req: IncomingMessage | null = null): void {
    this.#metrics.requests.inc([UNMATCHED, methodLabel(req?.method), statusClass(status)]);
    const access = this.#accessLog;
    if (access === null) return;
    access.info(
      {
        requestId,
        // Known when Node parsed the head (417, CONNECT); not for what llhttp refused.
        method: req?.method ?? null,
        path: req?.url ?? null,
        host: req?.headers.host ?? null,
        client: req !== null ? clientAddress(req, this.#trusted) : unmapIPv4(socket.remoteAddress ?? ''),
        route: null,
        upstream: null,
        tries: 0,
        status,
        durationMs: null,
        bytes,
        error: errorCode,
        detail,
      },
      'request',
    );
  }

  #done(req: IncomingMessage, requestId: string, started: number, path: string, f: LogFields, o: ExchangeOutcome): void {
    const m = this.#metrics;
    const route = f.route ?? UNMATCHED;
    m.inFlight--;
    m.requests.inc([route, methodLabel(req.method), statusClass(o.status)]);
    // A tunnel's lifetime is not a request latency: it would swamp the histogram.
    if (o.status !== 101) m.duration.observe([route], (performance.now() - started) / 1000);
    const trace = this.#tracer === null ? undefined : requestTraceOf(req);
    trace?.end(o.status, o.errorCode, f.route);
    const access = this.#accessLog;
    if (access === null) return;
    const q = path.indexOf('?');
    access.info(
      {
        requestId,
        method: req.method,
        path: q === -1 ? path : path.slice(0, q),
        host: req.headers.host ?? null,
        client: f.client ?? (req.socket === null ? null : clientAddress(req, this.#trusted)),
        route: f.route,
        upstream: f.upstream,
        tries: f.tries,
        status: o.status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        bytes: o.bytes,
        ...(f.identity === null ? null : { auth: f.identity.method, subject: f.identity.subject, ...(f.identity.keyId === null ? null : { keyId: f.identity.keyId }) }),
        ...(o.errorCode === null ? null : { error: o.errorCode }),
        ...(o.errorCode === null || o.detail == null ? null : { detail: o.detail }),
        ...(trace === undefined ? null : { traceId: trace.traceId }),
      },
      'request',
    );
  }
}

/** Trusted proxies plus loopback: callers whose sampling decision the tracer follows. */
function traceTrustOf(table: RouteTable): TrustedProxies {
  return new TrustedProxies([...table.snapshot.server.trustedProxies, '127.0.0.0/8', '::1/128']);
}


/**
 * Reduce an absolute-form target (`http://host/path`) to origin form. Its authority must
 * name the same host as the Host header (RFC 9112 §3.2.2 makes the target win; refusing a
 * mismatch instead means routing and upstream can never disagree about the host).
 */
function originFormOf(url: string, host: string | undefined): string {
  const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url);
  if (m === null) throw new BadRequestError('request target must be in origin form (/path) or absolute form');
  if (host === undefined || m[1]!.toLowerCase() !== host.toLowerCase()) {
    throw new BadRequestError('absolute-form request target does not match the Host header');
  }
  const rest = m[2]!;
  return rest === '' || rest.charCodeAt(0) === 0x3f ? '/' + rest : rest;
}
