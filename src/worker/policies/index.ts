/** Public surface of the request policies: rate limiting, authentication and authorization. */
export { RateLimitClient, type RateLimitAsk } from './rate-limit-client.js';
export { clientAddress, limitKeyOf } from './rate-limit-keys.js';
export { rateLimitHeaders, windowSeconds } from './rate-limit-headers.js';
export { AuthRuntime, AuthPolicy, effectiveLimits, type Identity } from './auth/index.js';
