/** Error codes are a contract: unique, documented in the README, and the only ones emitted. */
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as errors from '../../../src/common/errors.js';
import { ROOT } from '../../helpers/repo.js';

const { ERROR_CODES, GatewayError } = errors;

/** README rows `| \`CODE\` | status | ... |` → code → status text. */
function documented(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const m of readme.matchAll(/^\| `(GW_[A-Z_]+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim());
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

t.test('codes are unique and each is documented in the README error table', async (t) => {
  t.equal(new Set(ERROR_CODES).size, ERROR_CODES.length, 'no duplicates');
  const docs = documented();
  for (const code of ERROR_CODES) t.ok(docs.has(code), `${code} documented`);
  for (const code of docs.keys()) t.ok(ERROR_CODES.includes(code), `README row ${code} is a real code`);
});

t.test('every error class carries a listed code and the status the README gives it', async (t) => {
  const docs = documented();
  const samples: errors.GatewayError[] = [
    new errors.RouteNotFoundError(),
    new errors.MethodNotAllowedError(['GET']),
    new errors.BadRequestError('x'),
    new errors.PayloadTooLargeError(1),
    new errors.UriTooLongError(1),
    new errors.HeadersTooLargeError('x'),
    new errors.UpstreamTimeoutError('headers'),
    new errors.UpstreamConnectError('x'),
    new errors.NoHealthyUpstreamError('s'),
    new errors.InternalError(),
    new errors.MetricsUnavailableError('x'),
    new errors.RateLimitedError(),
    new errors.CorsRejectedError('x'),
    new errors.ExpectationFailedError(),
    new errors.UnauthenticatedError('gateway'),
    new errors.InvalidCredentialsError('gateway', 'x'),
    new errors.ForbiddenError('gateway', 'x', []),
    new errors.AuthUnavailableError('x'),
  ];
  for (const e of samples) {
    t.ok(e instanceof GatewayError);
    t.ok(ERROR_CODES.includes(e.code), `${e.constructor.name} → ${e.code}`);
    t.equal(docs.get(e.code), String(e.status), `${e.code} status ${e.status} documented`);
  }
});

t.test('no source file uses a GW_ code that is not in ERROR_CODES', async (t) => {
  const used = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/'(GW_[A-Z_]+)'/g)) used.add(m[1]!);
  }
  t.ok(used.size >= 10, `found ${used.size} codes in src/`);
  for (const code of used) t.ok(ERROR_CODES.includes(code), `${code} is listed`);
});
