/**
 * Public surface of the request policies: rate limiting, authentication and authorization, CORS,
 * response headers, route limits.
 */
export { RateLimitClient, type RateLimitAsk } from './rate-limit-client.js';
export { RefusalCache } from './refusal-cache.js';
export { clientAddress, forwardedClient, limitKeyOf } from './rate-limit-keys.js';
export { rateLimitHeaders, windowSeconds } from './rate-limit-headers.js';
export { CorsPolicy, type PreflightResult } from './cors-policy.js';
export { ResponseHeaderPolicy, connectionIsTls, requestIsHttps } from './response-header-policy.js';
export { ClientCertificates } from './client-certificates.js';
export { RoutePolicy } from './route-policy.js';
export { IpRestriction } from './ip-restriction.js';
export { AuthRuntime, AuthPolicy, effectiveLimits, type Identity } from './auth/index.js';
