/** Shared helpers for the config loader tests: write YAML to a temp dir and load it. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigProblem } from '../../../../src/common/index.js';
import type { ConfigSnapshot } from '../../../../src/ipc/index.js';
import { loadConfig, type LoadResult } from '../../../../src/control/config/index.js';

/** The repository root (tests run from dist/test/unit/control/config). */
export const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Fixture file path under test/fixtures/config. */
export const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'config', name);

type Env = Record<string, string | undefined>;

/** Minimal tap surface needed to make a scratch dir. */
interface HasTestdir {
  testdir(content?: Record<string, string>): string;
}

/** Write `yaml` as gateway.yaml in a fresh test dir and load it. */
export async function loadYaml(t: HasTestdir, yaml: string, env: Env = {}): Promise<LoadResult> {
  const dir = t.testdir({ 'gateway.yaml': yaml });
  return loadConfig(join(dir, 'gateway.yaml'), { env, version: 1 });
}

/** The problems of a failed load (empty when it succeeded). */
export function problemsOf(r: LoadResult): ConfigProblem[] {
  return r.ok ? [] : r.problems;
}

/** The snapshot of a successful load; throws with the problems otherwise. */
export function snapshotOf(r: LoadResult): ConfigSnapshot {
  if (!r.ok) throw new Error('expected ok, got:\n' + r.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join('\n'));
  return r.snapshot;
}

/** `{ line, path, message }` without `file`, for compact assertions. */
export function brief(problems: readonly ConfigProblem[]): { line?: number; path: string; message: string }[] {
  return problems.map(({ line, path, message }) => (line === undefined ? { path, message } : { line, path, message }));
}

/** A valid config with one service `svc` and the given routes block (YAML lines). */
export function withRoutes(routes: string, extra = ''): string {
  return `services:
  - name: svc
    instances:
      - url: http://127.0.0.1:9000
routes:
${routes}
${extra}`;
}
