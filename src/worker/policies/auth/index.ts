/** Public surface of authentication and authorization. */
export { AuthRuntime, type AuthRuntimeOptions } from './auth-runtime.js';
export { AuthPolicy, type Admitted, type RequestFacts } from './auth-policy.js';
export { ApiKeyIndex } from './api-key-index.js';
export { JwksCache, type JwksFetch } from './jwks-cache.js';
export { createJwksFetch } from './jwks-fetch.js';
export { JwtProvider } from './jwt-provider.js';
export { TokenCache } from './token-cache.js';
export { effectiveLimits } from './key-limits.js';
export type { Identity } from './identity.js';
