/** Public surface of the upstream side: pools, services, header rewriting, the proxy exchange. */
export { PoolSet, type PoolKey, type PoolGeneration } from './pool-set.js';
export { UpstreamService, type UpstreamEndpoint, type SharedEndpointState } from './upstream-service.js';
export { upstreamRequestHeaders, clientResponseHeaders, type ForwardContext, type ResponseHeaderHook } from './forward-headers.js';
export { UpstreamCall, queuedBehindAnother, responseInProgress, type ExchangeOutcome, type CallOptions, type CallHooks } from './upstream-call.js';
export { HandshakeWait, asksForWebSocket, joinTunnel, type TunnelEnd } from './tunnel.js';
export { upstreamError, retryConditionOf } from './upstream-error.js';
export { OutlierDetector, type OutlierState, type TryResult } from './outlier-detector.js';
export { RetryBudget } from './retry-budget.js';
export { fullJitterBackoff, parseRetryAfter } from './backoff.js';
export { createBalancer, type Balancer, type Endpoint } from './balancers/index.js';
export { HeaderNames, NameKind, type HeaderName } from './header-names.js';
