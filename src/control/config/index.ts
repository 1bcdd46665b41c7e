/** Public surface of the config loader: load a gateway YAML file into a frozen snapshot. */
export { loadConfig, type LoadResult, type LoadOptions } from './loader.js';
