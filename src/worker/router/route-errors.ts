/**
 * Registration errors of the router. Lookup never throws; only `add` does, so these
 * surface while a config snapshot is being applied, never on a request.
 */
import { GatewayError } from '../../common/index.js';

/** A path or host pattern is malformed (bad `*`, bad `:param`, duplicate names ...). */
export class RouteDefinitionError extends GatewayError {
  /** The pattern as written in the route config. */
  readonly pattern: string;
  constructor(pattern: string, reason: string, what: 'path' | 'host' | 'route' = 'path') {
    super('GW_ROUTE_INVALID', 500, `invalid ${what} "${pattern}": ${reason}`);
    this.pattern = pattern;
  }
}

/** Two registrations share host, pattern shape and at least one method. */
export class RouteConflictError extends GatewayError {
  /** Route already registered. */
  readonly existingRouteId: string;
  /** Route whose registration was refused. */
  readonly routeId: string;
  constructor(info: {
    readonly existingRouteId: string;
    readonly existingPattern: string;
    readonly routeId: string;
    readonly pattern: string;
    readonly methods: readonly string[];
    /** Host pattern both share; null for the any-host tier, absent for a bare tree. */
    readonly host?: string | null;
  }) {
    const methods = info.methods.length === 0 ? 'any method' : info.methods.join(', ');
    const host =
      info.host === undefined ? '' : info.host === null ? ' on any host' : ` on host "${info.host}"`;
    super(
      'GW_ROUTE_CONFLICT',
      500,
      `route "${info.routeId}" path "${info.pattern}" conflicts with route ` +
        `"${info.existingRouteId}" path "${info.existingPattern}"${host}: ` +
        `same pattern shape and overlapping methods (${methods})`,
    );
    this.existingRouteId = info.existingRouteId;
    this.routeId = info.routeId;
  }
}
