export * from './errors.js';
export { unmapIPv4 } from './ip.js';
export { loadEnvFiles, type EnvLoadResult } from './env-files.js';
export { parseCommandLine } from './command-line.js';
export { headerCount } from './raw-headers.js';
