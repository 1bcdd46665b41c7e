/**
 * CORS preflights, answered at the gateway. A preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is about the *actual* request, so it is routed with the
 * requested method, not OPTIONS: a route with `methods: [GET]` and `cors` answers the
 * preflight for GET although it does not list OPTIONS. When no route serves the
 * requested method, or the route has no `cors`, the preflight is not handled here and
 * routing goes on as for any OPTIONS request (405, 404, or the upstream of a route that
 * accepts OPTIONS and does its own CORS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientAddressForbiddenError, CorsRejectedError } from '../../common/index.js';
import { forwardedClient } from '../policies/index.js';
import type { ExchangeOutcome } from '../upstream/index.js';
import { hostnameOf } from './client-host.js';
import type { RouteTable } from './route-table.js';
import { sendError } from './send-error.js';
import type { TrustedProxies } from './trusted-proxies.js';
import { hasUnreadBody } from './unread-body.js';

/** A preflight the gateway answered: the route it was for and what was sent. */
export interface PreflightAnswer {
  readonly route: string;
  readonly service: string;
  readonly outcome: ExchangeOutcome;
}

/** Answer `req` if it is a preflight for a CORS route; null when routing should go on. */
export function answerPreflight(
  table: RouteTable,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  path: string,
  via: string,
  https: (req: IncomingMessage) => boolean,
  trusted: TrustedProxies,
): PreflightAnswer | null {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  if (origin === undefined || method === undefined) return null;
  const found = table.router.find(method, hostnameOf(req.headers.host), path);
  if (found.kind !== 'found' || found.store.policy.cors === null) return null;
  const { route, service, policy } = found.store;
  const verdict = policy.cors!.preflight(origin, method, req.headers['access-control-request-headers']);
  const secure = policy.headers.usesHttps && https(req);
  // A preflight has no body the gateway would forward; do not keep reading one (but keep
  // the connection of an ordinary bodiless preflight: the browser's real request follows).
  if (hasUnreadBody(req)) res.shouldKeepAlive = false;
  // A refused address learns nothing of the route's CORS policy either.
  if (policy.ipRestriction !== null && !policy.ipRestriction.admits(forwardedClient(req, trusted))) {
    const bytes = sendError(res, new ClientAddressForbiddenError(), requestId, via, policy.headers.record(undefined, secure, null));
    return { route: route.id, service: service.name, outcome: { status: 403, bytes, errorCode: 'GW_IP_FORBIDDEN' } };
  }
  if (!verdict.ok) {
    const bytes = sendError(res, new CorsRejectedError(verdict.reason), requestId, via, policy.headers.record(undefined, secure, null));
    return { route: route.id, service: service.name, outcome: { status: 403, bytes, errorCode: 'GW_CORS_REJECTED' } };
  }
  const headers = policy.headers.record(undefined, secure, verdict.headers);
  res.writeHead(204, { ...headers, via, 'x-request-id': requestId });
  res.end();
  return { route: route.id, service: service.name, outcome: { status: 204, bytes: 0, errorCode: null } };
}
