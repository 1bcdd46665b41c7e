export * from './errors.js';
export { loadEnvFiles, type EnvLoadResult } from './env-files.js';
