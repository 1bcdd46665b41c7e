/** Public surface of the request pipeline. */
export { GatewayHandler, type NodeStatus } from './gateway-handler.js';
export { RouteTable, type RouteTarget, compileRewrite, renderRewrite } from './route-table.js';
export { TrustedProxies } from './trusted-proxies.js';
export { RequestIds } from './request-id.js';
export { hostnameOf } from './client-host.js';
export { sendError, sendJson } from './send-error.js';
