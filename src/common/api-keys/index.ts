/** API keys shared by the CLI (create/list/revoke) and the workers (verify). */
export * from './api-key-format.js';
export * from './key-repository.js';
export { FileKeyRepository, parseKeyFile } from './file-key-repository.js';
export { stateFiles, type StateFiles } from './state-files.js';
