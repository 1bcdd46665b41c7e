/**
 * `--env NAME` switching: `.env` is loaded first, `.env.NAME` over it, and variables
 * already set in the process environment win over both (systemd `Environment=` and
 * shell exports must beat files shipped with the release).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { UsageError } from './errors.js';

/** What loading produced: merged values (files only) and which files were read. */
export interface EnvLoadResult {
  readonly files: readonly string[];
  readonly values: Readonly<Record<string, string>>;
}

const ENV_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/i;

/**
 * Read `.env` and `.env.<name>` from `dir` and apply them to `target` without overriding
 * keys `target` already has. A missing `.env` is fine; a missing `.env.<name>` is an
 * unknown environment and throws `UsageError`, as does any unreadable or unparsable file.
 */
export function loadEnvFiles(
  dir: string,
  name: string | undefined,
  target: Record<string, string | undefined>,
): EnvLoadResult {
  if (name !== undefined && !ENV_NAME.test(name)) {
    throw new UsageError(`invalid environment name "${name}" (letters, digits, - and _ only)`);
  }
  const files: string[] = [];
  const merged: Record<string, string> = {};
  const base = readEnvFile(join(dir, '.env'), false);
  if (base) {
    files.push(join(dir, '.env'));
    Object.assign(merged, base);
  }
  if (name !== undefined) {
    const file = join(dir, `.env.${name}`);
    const overlay = readEnvFile(file, true);
    if (!overlay) throw new UsageError(`unknown environment "${name}": ${file} does not exist`);
    files.push(file);
    Object.assign(merged, overlay);
  }
  for (const [k, v] of Object.entries(merged)) {
    if (target[k] === undefined) target[k] = v;
  }
  return { files, values: merged };
}

function readEnvFile(file: string, required: boolean): Record<string, string> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return null;
    if (code === 'ENOENT') return null;
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  // dotenv's parser is lenient; reject lines that are neither blank, comments nor KEY=...
  // so a typo in a production env file fails loudly instead of silently dropping a key.
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const s = line.trim();
    if (s === '' || s.startsWith('#')) return;
    const assignment = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*(.*)$/.exec(s);
    if (assignment === null) {
      if (!/^\s/.test(line)) throw new UsageError(`${file}:${i + 1}: expected KEY=VALUE, got "${s.slice(0, 40)}"`);
      return;
    }
    // A quoted value may go on over indented lines, but its quote must close: dotenv
    // would take an unterminated one literally, quote included.
    const value = assignment[1]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && !closes(quote, value.slice(1), lines, i + 1)) {
      throw new UsageError(`${file}:${i + 1}: unterminated ${quote} quote in "${s.slice(0, 40)}"`);
    }
  });
  return parse(text);
}

/**
 * Whether the closing `quote` follows in `first` (the rest of the opening line) or in the
 * lines from `next` on (`\"` escapes only in double quotes, as dotenv reads them).
 */
function closes(quote: string, first: string, lines: readonly string[], next: number): boolean {
  for (let n = next - 1; n < lines.length; n++) {
    const text = n === next - 1 ? first : lines[n]!;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '\\' && quote === '"') i++;
      else if (text[i] === quote) return true;
    }
  }
  return false;
}
