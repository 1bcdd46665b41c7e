/**
 * The per-request path of a worker: validate the request line and limits, normalise the
 * path, answer the reserved prefix, route, pick an endpoint and hand the exchange to
 * undici. Everything here runs for every request, so it allocates little and never
 * awaits; errors become the JSON error body and an access-log line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BadRequestError,
  GatewayError,
  HeadersTooLargeError,
  InternalError,
  MetricsUnavailableError,
  RateLimitedError,
  MethodNotAllowedError,
  NoHealthyUpstreamError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UriTooLongError,
} from '../../common/index.js';
import { methodLabel, requestTraceOf, statusClass, type DataPlaneMetrics, type Logger, type RequestTracer } from '../../telemetry/index.js';
import { normalizePath, type RouteLookup } from '../router/index.js';
import { limitKeyOf, rateLimitHeaders, type RateLimitAsk } from '../policies/index.js';
import { ProxyExchange, upstreamRequestHeaders, type ExchangeOutcome } from '../upstream/index.js';
import { BodyLimit } from './body-limit.js';
import { hostnameOf } from './client-host.js';
import { requestIdFor } from './request-id.js';
import { renderRewrite, type RouteTable, type RouteTarget } from './route-table.js';
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
}

const NO_ROUTE: LogFields = { route: null, upstream: null, service: null };
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
}

/** The node-wide metrics page, as text (fetched through the primary). */
export type ScrapeFn = () => Promise<{ text: string; contentType: string }>;

/** Handles requests against the current route table; swap tables with `setTable`. */
export class GatewayHandler {
  #table: RouteTable;
  #trusted: TrustedProxies;
  #via: string;
  #draining = false;
  readonly #logger: Logger;
  readonly #accessLog: boolean;
  readonly #slot: number;
  readonly #metrics: DataPlaneMetrics;
  readonly #scrape: ScrapeFn;
  readonly #rateLimit: RateLimitAsk;
  readonly #tracer: RequestTracer | null;
  readonly status: NodeStatus;
  readonly #isDraining = () => this.#draining;

  constructor(
    table: RouteTable,
    opts: {
      logger: Logger;
      accessLog: boolean;
      slot: number;
      metrics: DataPlaneMetrics;
      scrape: ScrapeFn;
      rateLimit: RateLimitAsk;
      /** Null (tracing off): no spans, trace headers pass through untouched. */
      tracer?: RequestTracer | null;
    },
  ) {
    this.#table = table;
    this.#trusted = new TrustedProxies(table.snapshot.server.trustedProxies);
    this.#via = `1.1 ${table.snapshot.server.viaName}`;
    this.#logger = opts.logger;
    this.#accessLog = opts.accessLog;
    this.#slot = opts.slot;
    this.#metrics = opts.metrics;
    this.#scrape = opts.scrape;
    this.#rateLimit = opts.rateLimit;
    this.#tracer = opts.tracer ?? null;
    this.status = { workersUp: 0, workersWanted: 0, configVersion: table.snapshot.version };
  }

  /** The table requests are served from. */
  get table(): RouteTable {
    return this.#table;
  }

  /** Serve new requests from `table`; requests in flight finish on the old one. */
  setTable(table: RouteTable): void {
    this.#trusted = new TrustedProxies(table.snapshot.server.trustedProxies);
    this.#via = `1.1 ${table.snapshot.server.viaName}`;
    this.#table = table;
  }

  /** From now on every response asks the client to close its connection. */
  startDraining(): void {
    this.#draining = true;
  }

  /** The `request` listener. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const requestId = requestIdFor(req.headers['x-request-id']);
    if (this.#draining) res.shouldKeepAlive = false;
    this.#metrics.inFlight++;
    this.#tracer?.start(req, res);
    try {
      this.#route(req, res, requestId, started);
    } catch (err) {
      if (!(err instanceof GatewayError)) this.#logger.error({ err, requestId }, 'unexpected error while handling a request');
      this.#fail(req, res, requestId, started, err instanceof GatewayError ? err : new InternalError(err), NO_ROUTE);
    }
  }

  #route(req: IncomingMessage, res: ServerResponse, requestId: string, started: number): void {
    const server = this.#table.snapshot.server;
    const url = req.url ?? '/';
    if (url.length > server.limits.maxUrlBytes) throw new UriTooLongError(server.limits.maxUrlBytes);
    if (req.rawHeaders.length > server.limits.maxHeaderCount * 2) {
      throw new HeadersTooLargeError(`more than ${server.limits.maxHeaderCount} request headers`);
    }
    if (hostCount(req.rawHeaders) > 1) throw new BadRequestError('more than one Host header');
    const target = url.charCodeAt(0) === 0x2f ? url : originFormOf(url, req.headers.host);
    const q = target.indexOf('?');
    const normalized = normalizePath(q === -1 ? target : target.slice(0, q), server.paths);
    if (!normalized.ok) throw new BadRequestError(`invalid request path: ${normalized.reason}`);
    const path = normalized.path;
    const prefix = server.reservedPrefix;
    if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f)) {
      this.#reserved(req, res, requestId, started, path.slice(prefix.length));
      return;
    }

    const method = req.method!;
    const found = this.#table.router.find(method, hostnameOf(req.headers.host), path);
    if (found.kind === 'not-found') throw new RouteNotFoundError();
    if (found.kind === 'method-not-allowed') throw new MethodNotAllowedError(found.allow);
    const { route, service } = found.store;
    const fields: LogFields = { route: route.id, upstream: null, service: service.name };
    const ctx: Matched = { req, res, requestId, started, target, q, path, found, fields };
    if (route.rateLimits.length === 0) {
      this.#forward(ctx, null);
      return;
    }
    const limits = route.rateLimits;
    const checks = limits.map((limit, i) => ({
      limit: { requests: limit.requests, per: limit.per, ...(limit.burst === undefined ? {} : { burst: limit.burst }) },
      key: `${route.id}#${i}|${limitKeyOf(limit.key, req, this.#trusted)}`,
    }));
    this.#rateLimit(checks).then(
      (verdicts) => {
        // A queued pipelined response never reports `destroyed`; its socket does.
        if (res.destroyed || req.socket.destroyed) {
          return this.#done(req, requestId, started, path, fields, { status: 499, bytes: 0, errorCode: 'GW_CLIENT_CLOSED' });
        }
        if (this.#draining) res.shouldKeepAlive = false;
        if (verdicts === null || verdicts.length !== limits.length) {
          // Fail open: the primary (which owns the node-wide buckets) did not answer.
          this.#metrics.rateLimitDecisions.inc([route.id, 'fail_open']);
          this.#logger.warn({ requestId, route: route.id }, 'rate limiter unavailable; request let through');
          return this.#forward(ctx, null);
        }
        const headers = rateLimitHeaders(limits, verdicts);
        const allowed = verdicts.every((v) => v.allowed);
        this.#metrics.rateLimitDecisions.inc([route.id, allowed ? 'allowed' : 'limited']);
        if (allowed) return this.#forward(ctx, headers);
        // Do not read (and discard) an upload we refused: close after the 429 instead.
        if (!req.complete) res.shouldKeepAlive = false;
        const bytes = sendError(res, new RateLimitedError(), requestId, this.#via, headers);
        this.#done(req, requestId, started, path, fields, { status: 429, bytes, errorCode: 'GW_RATE_LIMITED' });
      },
    ).catch((err: unknown) => {
      this.#logger.error({ err, requestId }, 'rate-limit handling failed');
      if (!res.headersSent) this.#fail(req, res, requestId, started, new InternalError(err), fields);
    });
  }

  /** Proxy a matched (and admitted) request; `extra` headers go on the response. */
  #forward(ctx: Matched, extra: Record<string, string> | null): void {
    const { req, res, requestId, started, target, q, path, found, fields } = ctx;
    const { route, service } = found.store;
    const server = this.#table.snapshot.server;
    const method = req.method!;
    let body: NodeJS.ReadableStream | null = null;
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const maxBody = server.limits.maxBodyBytes;
    if (length !== undefined && maxBody > 0 && Number(length) > maxBody) {
      res.shouldKeepAlive = false; // do not read a body we refused
      this.#fail(req, res, requestId, started, new PayloadTooLargeError(maxBody), fields, extra);
      return;
    }
    if (chunked) body = maxBody > 0 ? BodyLimit.wrap(req, maxBody) : req;
    else if (length !== undefined && length !== '0') body = req;

    const endpoint = service.pick();
    if (endpoint === null) {
      this.#fail(req, res, requestId, started, new NoHealthyUpstreamError(service.name), fields, extra);
      return;
    }
    fields.upstream = endpoint.authority;

    let upstreamPath: string;
    if (found.store.rewrite !== null) {
      upstreamPath = renderRewrite(found.store.rewrite, found.pattern.paramNames, found.params, found.wildcard);
    } else if (route.stripPrefix) upstreamPath = '/' + (found.wildcard ?? '');
    else upstreamPath = path;
    upstreamPath = endpoint.basePath + upstreamPath + (q === -1 ? '' : target.slice(q));

    const remoteAddress = req.socket.remoteAddress ?? '';
    const headers = upstreamRequestHeaders(req.rawHeaders, {
      remoteAddress,
      trusted: this.#trusted.has(remoteAddress),
      proto: 'http',
      requestId,
      via: this.#via,
      upstreamHost: route.preserveHost ? (req.headers.host ?? null) : null,
    });
    const via = this.#via;
    // One span per upstream try; its traceparent replaces the caller's.
    const attempt =
      this.#tracer === null
        ? undefined
        : requestTraceOf(req)?.startTry({ method, authority: endpoint.authority, target: upstreamPath, service: service.name });
    const exchange = new ProxyExchange(req, res, {
      endpoint,
      requestId,
      via,
      closeConnection: this.#isDraining,
      extraHeaders: extra,
      sendError: (r, err) => {
        if (err instanceof PayloadTooLargeError) r.shouldKeepAlive = false;
        return sendError(r, err, requestId, via, extra);
      },
      done: (outcome) => {
        const m = this.#metrics;
        const outcomeLabel = outcome.errorCode === null ? statusClass(outcome.status) : outcome.errorCode;
        m.upstreamTries.inc([service.name, outcomeLabel]);
        m.upstreamDuration.observe([service.name], (performance.now() - dispatched) / 1000);
        attempt?.end(outcome.status, outcome.errorCode);
        this.#done(req, requestId, started, path, fields, outcome);
      },
    });
    const dispatched = performance.now();
    const accepted = endpoint.pool.dispatch(
      {
        path: upstreamPath,
        method,
        headers: attempt === undefined ? headers : attempt.withHeaders(headers),
        body: body as never,
        headersTimeout: service.timeouts.headersMs,
        bodyTimeout: service.timeouts.bodyMs,
      },
      exchange,
    );
    // false: the pool has no free connection now, so this request may queue (bounded).
    if (!accepted) exchange.armQueueTimeout(service.timeouts.connectMs);
  }

  /** `/health` (liveness), `/ready` (readiness) under the reserved prefix. */
  #reserved(req: IncomingMessage, res: ServerResponse, requestId: string, started: number, sub: string): void {
    const fields: LogFields = { route: RESERVED, upstream: null, service: null };
    if (sub !== '/health' && sub !== '/ready' && sub !== '/metrics') throw new RouteNotFoundError();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(['GET', 'HEAD']);
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
    const bytes = sendJson(res, status, doc, requestId);
    this.#done(req, requestId, started, req.url ?? '', fields, { status, bytes, errorCode: null });
  }

  #fail(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    started: number,
    err: GatewayError,
    fields: LogFields,
    extra: Record<string, string> | null = null,
  ): void {
    const bytes = res.headersSent ? 0 : sendError(res, err, requestId, this.#via, extra);
    this.#done(req, requestId, started, req.url ?? '', fields, { status: err.status, bytes, errorCode: err.code });
  }

  #done(req: IncomingMessage, requestId: string, started: number, path: string, f: LogFields, o: ExchangeOutcome): void {
    const m = this.#metrics;
    const route = f.route ?? UNMATCHED;
    m.inFlight--;
    m.requests.inc([route, methodLabel(req.method), statusClass(o.status)]);
    m.duration.observe([route], (performance.now() - started) / 1000);
    const trace = this.#tracer === null ? undefined : requestTraceOf(req);
    trace?.end(o.status, o.errorCode, f.route);
    if (!this.#accessLog) return;
    const q = path.indexOf('?');
    this.#logger.info(
      {
        requestId,
        method: req.method,
        path: q === -1 ? path : path.slice(0, q),
        route: f.route,
        upstream: f.upstream,
        status: o.status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        bytes: o.bytes,
        ...(o.errorCode === null ? null : { error: o.errorCode }),
        ...(trace === undefined ? null : { traceId: trace.traceId }),
      },
      'request',
    );
  }
}

/** Number of Host fields (RFC 9112 §3.2: more than one is a 400). */
function hostCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
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
