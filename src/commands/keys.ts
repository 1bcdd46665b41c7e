/**
 * `gateway keys create|list|revoke`: manage API keys in the key repository (the JSON
 * file of embedded mode). `create` prints the new key exactly once; only its keyed hash
 * (HMAC-SHA256 with GATEWAY_API_KEY_PEPPER) is stored. Creations and revocations are
 * written to the audit log. Running workers pick changes up within
 * `auth.apiKeys.refreshMs` (default 1 s): no reload or restart needed.
 */
import { userInfo } from 'node:os';

import { UsageError, parseCommandLine } from '../common/index.js';
import { parseLimit } from '../common/rate-limit/index.js';
import {
  FileKeyRepository,
  PEPPER_ENV,
  generateApiKey,
  hashApiKey,
  keyStatus,
  pepperProblem,
  stateFiles,
  type ApiKeyRecord,
  type KeyRateLimit,
  type KeyRepository,
} from '../common/api-keys/index.js';
import { AuditFileSink, AuditLog, createLogger } from '../telemetry/index.js';

/** Help text of `gateway keys`. */
export const KEYS_HELP = `Usage: gateway keys <create|list|revoke> [options]

  gateway keys create --owner NAME [--roles a,b] [--scopes x,y] [--expires 30d] [--rate-limit 100/m]
      Create a key and print it once (store it: it cannot be shown again).
      --expires: 90m, 12h, 30d, an ISO date, or "never" (default)
      --rate-limit: N/s, N/m, N/h or N/d; replaces the route's "api-key" limits for this key
  gateway keys list [--json]
      Every key with owner, roles, scopes, status (active, revoked, expired), never the key.
  gateway keys revoke ID
      Revoke a key; running gateways refuse it within auth.apiKeys.refreshMs (default 1 s).

Options:
  --env NAME   load .env, then .env.NAME over it (for GATEWAY_API_KEY_PEPPER etc.)
  --file FILE  key file (default: $GATEWAY_API_KEYS_FILE, else state/api-keys.json)
  -h, --help   show this help

Needs ${PEPPER_ENV} (at least 32 characters) for "create"; it must be the value the
gateway runs with. Exit codes: 0 ok, 1 failure (e.g. unknown id), 2 usage/environment error.
`;

/** What the command needs from its caller (the CLI's composition root). */
export interface KeysIo {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Load .env files for `--env NAME` into `env`. */
  readonly loadEnv: (name: string | undefined) => void;
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Run `gateway keys ...`; resolves with the exit code (usage errors throw UsageError). */
export async function runKeys(argv: string[], io: KeysIo): Promise<number> {
  const parsed = parseCommandLine(argv, {
    owner: { type: 'string' },
    roles: { type: 'string' },
    scopes: { type: 'string' },
    expires: { type: 'string' },
    'rate-limit': { type: 'string' },
    json: { type: 'boolean' },
    env: { type: 'string' },
    file: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const v = parsed.values;
  const [sub, ...rest] = parsed.positionals;
  if (v.help === true || sub === undefined || sub === 'help') {
    io.out(KEYS_HELP);
    return v.help === true || sub === 'help' ? 0 : 2;
  }
  io.loadEnv(v.env ?? (io.env.GATEWAY_ENV || undefined));
  const files = stateFiles(io.home, io.env);
  const repo = new FileKeyRepository(v.file ?? files.apiKeysFile);
  const audit = new AuditLog({ sink: new AuditFileSink(files.auditLog), logger: createLogger({ level: 'warn' }), registry: null, base: { role: 'cli' } });
  const actor = io.env.SUDO_USER || io.env.USER || safeUser();
  try {
    if (sub === 'create') {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
      return await create(repo, v, io, (fields) => audit.record('apikey.created', { actor, ...fields }));
    }
    if (sub === 'list') {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
      return await list(repo, v.json === true, io);
    }
    if (sub === 'revoke') {
      if (rest.length !== 1) throw new UsageError('usage: gateway keys revoke ID');
      const at = new Date();
      const record = await repo.revoke(rest[0]!, at);
      if (record === null) {
        io.err(`gateway: no API key with id "${rest[0]}"\n`);
        return 1;
      }
      // Revoking twice changes nothing (the first time stands): say so, audit nothing new.
      if (record.revokedAt !== at.toISOString()) {
        io.out(`${record.id} (owner ${record.owner}) was already revoked at ${record.revokedAt}\n`);
        return 0;
      }
      audit.record('apikey.revoked', { actor, keyId: record.id, owner: record.owner });
      io.out(`revoked ${record.id} (owner ${record.owner}) at ${record.revokedAt}\n`);
      return 0;
    }
    throw new UsageError(`unknown keys command "${sub}" (create, list, revoke)`);
  } finally {
    await audit.close();
  }
}

async function create(
  repo: KeyRepository,
  v: Record<string, string | boolean | undefined>,
  io: KeysIo,
  audit: (fields: Record<string, unknown>) => void,
): Promise<number> {
  const problem = pepperProblem(io.env[PEPPER_ENV]);
  if (problem !== null) throw new UsageError(problem);
  const owner = typeof v.owner === 'string' ? v.owner : '';
  if (!/^[\x20-\x7e]{1,128}$/.test(owner) || owner.trim() !== owner) throw new UsageError('--owner is required: 1-128 printable ASCII characters, no surrounding spaces');
  const roles = list_(v.roles, '--roles');
  const scopes = list_(v.scopes, '--scopes');
  const now = new Date();
  const expiresAt = expiry(typeof v.expires === 'string' ? v.expires : 'never', now);
  const rateLimit = typeof v['rate-limit'] === 'string' ? limitOf(v['rate-limit']) : null;
  const { id, key } = generateApiKey();
  const record: ApiKeyRecord = {
    id,
    hash: hashApiKey(key, io.env[PEPPER_ENV]!),
    owner,
    roles,
    scopes,
    createdAt: now.toISOString(),
    expiresAt,
    revokedAt: null,
    rateLimit,
  };
  await repo.add(record);
  audit({ keyId: id, owner, roles, scopes, expiresAt, rateLimit });
  io.out(`created API key ${id} for ${owner}${expiresAt === null ? '' : `, expires ${expiresAt}`}\n`);
  io.out(`key (shown only now; store it safely):\n${key}\n`);
  return 0;
}

async function list(repo: KeyRepository, json: boolean, io: KeysIo): Promise<number> {
  const now = Date.now();
  const rows = (await repo.list()).map(({ hash: _hash, ...r }) => ({ ...r, status: keyStatus({ hash: '', ...r }, now) }));
  if (json) {
    io.out(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  if (rows.length === 0) {
    io.out('no API keys\n');
    return 0;
  }
  const table = [['ID', 'OWNER', 'STATUS', 'ROLES', 'SCOPES', 'EXPIRES', 'RATE LIMIT'], ...rows.map((r) => [
    r.id, r.owner, r.status, r.roles.join(',') || '-', r.scopes.join(',') || '-', r.expiresAt ?? 'never', r.rateLimit === null ? '-' : `${r.rateLimit.requests}/${r.rateLimit.per}`,
  ])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) io.out(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd() + '\n');
  return 0;
}

/** `a,b` → ['a', 'b'] (each 1-128 visible ASCII characters). */
function list_(raw: string | boolean | undefined, flag: string): string[] {
  if (typeof raw !== 'string') return [];
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) if (!/^[\x21-\x7e]{1,128}$/.test(item)) throw new UsageError(`${flag}: "${item}" must be 1-128 visible ASCII characters`);
  return [...new Set(items)];
}

/** `30d`, `12h`, `90m`, an ISO date, or `never` → ISO timestamp or null. */
export function expiry(raw: string, now: Date): string | null {
  if (raw === 'never') return null;
  const m = /^([1-9]\d{0,5})([mhd])$/.exec(raw);
  if (m !== null) return new Date(now.getTime() + Number(m[1]) * UNIT_MS[m[2]!]!).toISOString();
  const at = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(at)) throw new UsageError(`--expires: "${raw}" is not a duration (90m, 12h, 30d), an ISO date or "never"`);
  if (at <= now.getTime()) throw new UsageError(`--expires: ${raw} is in the past`);
  return new Date(at).toISOString();
}

/** `100/m` → { requests: 100, per: 'm' }, validated like a route limit. */
export function limitOf(raw: string): KeyRateLimit {
  const m = /^([1-9]\d*)\/([smhd])$/.exec(raw);
  if (m === null) throw new UsageError(`--rate-limit: "${raw}" must look like 100/m (per s, m, h or d)`);
  const limit = { requests: Number(m[1]), per: m[2] as 's' | 'm' | 'h' | 'd' };
  const parsed = parseLimit(limit);
  if (!parsed.ok) throw new UsageError(`--rate-limit: ${parsed.reason}`);
  return limit;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
