/**
 * Where per-installation state lives: the API key file and the audit log. Both are
 * environment settings (not YAML) because the `gateway keys` CLI and the running node
 * must agree on them without parsing the config. A relative GATEWAY_STATE_DIR is relative
 * to the install directory (GATEWAY_HOME); relative file names are inside the state dir.
 */
import { resolve } from 'node:path';

/** Resolved state paths. */
export interface StateFiles {
  readonly stateDir: string;
  readonly apiKeysFile: string;
  readonly auditLog: string;
}

/** Resolve GATEWAY_STATE_DIR (default `state`), GATEWAY_API_KEYS_FILE, GATEWAY_AUDIT_LOG. */
export function stateFiles(home: string, env: Readonly<Record<string, string | undefined>>): StateFiles {
  const stateDir = resolve(home, env.GATEWAY_STATE_DIR || 'state');
  return {
    stateDir,
    apiKeysFile: resolve(stateDir, env.GATEWAY_API_KEYS_FILE || 'api-keys.json'),
    auditLog: resolve(stateDir, env.GATEWAY_AUDIT_LOG || 'audit.log'),
  };
}
