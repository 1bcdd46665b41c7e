/** Public surface of the upstream side: pools, services, header rewriting, the proxy exchange. */
export { PoolSet, type PoolKey, type PoolGeneration } from './pool-set.js';
export { UpstreamService, type UpstreamEndpoint } from './upstream-service.js';
export { upstreamRequestHeaders, clientResponseHeaders, type ForwardContext, type ResponseHeaderHook } from './forward-headers.js';
export { ProxyExchange, upstreamError, type ExchangeOutcome, type ExchangeOptions } from './proxy-exchange.js';
export { createBalancer, type Balancer, type Endpoint } from './balancers/index.js';
