/** Paths of the repository as seen from compiled tests (dist/test/helpers/*.js). */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** Repository root. */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
/** The built CLI. */
export const CLI = resolve(ROOT, 'dist/src/cli.js');
