/**
 * `${VAR}` substitution in the values of a parsed YAML document.
 *
 * Grammar, inside any string scalar that is a value (keys are never touched):
 *   `${NAME}`            the variable; unset is a problem (a guessed value is worse);
 *   `${NAME:-default}`   the variable, or `default` when it is unset or empty (as in sh);
 *   `$${`                a literal `${`.
 * NAME is `[A-Za-z_][A-Za-z0-9_]*`; `default` runs to the first `}`.
 *
 * Typing: a PLAIN scalar that is exactly one reference (`port: ${PORT:-8080}`) is
 * re-resolved with the YAML core schema, so it becomes the number, boolean or null the
 * text would have been had it been written there. Quoted or block scalars, and scalars
 * mixing text and references, stay strings: quoting is how YAML says "this is a string",
 * and interpolation keeps that promise (`version: "${V}"` with V=1.10 stays "1.10").
 *
 * Inside flow collections (`[a, b]`, `{k: v}`) YAML reads `{` and `}` as syntax, so a
 * reference there must be quoted: `hosts: ["${API_HOST}"]`.
 */
import { isAlias, isMap, isScalar, isSeq, Schema, type Document, type Node, type ScalarTag } from 'yaml';
import type { KeyPath, Report } from './loader.js';

/** Variables visible to interpolation (typically `process.env`). */
export type EnvVars = Readonly<Record<string, string | undefined>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// One token at a time: an escape, a complete reference, or an unterminated `${`.
const TOKEN = /\$\$\{|\$\{([^}]*)\}|\$\{/g;

// The core schema's scalar tags, in the order YAML tries them on a plain scalar.
const CORE_SCALARS = new Schema({ schema: 'core' }).tags.filter(
  (tag): tag is ScalarTag => 'test' in tag && tag.test instanceof RegExp,
);

/**
 * Substitute references in every string value of `doc`, in place, reporting each
 * missing variable or malformed reference at its key path. A scalar with a problem keeps
 * its original text so later stages can tell it apart (the loader drops their echoes).
 */
export function interpolateDocument(doc: Document, env: EnvVars, report: Report): void {
  walk(doc.contents, [], env, report);
}

function walk(node: Node | null, path: KeyPath, env: EnvVars, report: Report): void {
  // Aliases point at nodes already visited where their anchor is defined.
  if (node === null || isAlias(node)) return;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      walk(pair.value as Node | null, [...path, key], env, report);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item as Node | null, [...path, i], env, report));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
    const result = substitute(node.value, env);
    if (result.problems.length > 0) {
      for (const message of result.problems) report(path, message);
      return;
    }
    node.value = result.exact && node.type === 'PLAIN' ? resolveCore(result.text) : result.text;
  }
}

/** What `substitute` made of one string. */
export interface Substitution {
  readonly text: string;
  /** The input was exactly one reference (no surrounding text). */
  readonly exact: boolean;
  readonly problems: readonly string[];
}

/** Expand the references in `input` against `env` (see the header for the grammar). */
export function substitute(input: string, env: EnvVars): Substitution {
  const problems: string[] = [];
  let exact = false;
  const text = input.replace(TOKEN, (token: string, body: string | undefined, offset: number) => {
    if (token === '$${') return '${';
    if (body === undefined) {
      problems.push(`unterminated "\${" (write "$\${" for a literal "\${")`);
      return token;
    }
    exact = token.length === input.length && offset === 0;
    const sep = body.indexOf(':-');
    const name = sep === -1 ? body : body.slice(0, sep);
    if (!NAME.test(name)) {
      problems.push(`invalid reference "${token}": expected \${NAME} or \${NAME:-default}`);
      return token;
    }
    const value = env[name];
    if (sep !== -1) return value === undefined || value === '' ? body.slice(sep + 2) : value;
    if (value === undefined) {
      problems.push(`environment variable ${name} is not set (use \${${name}:-value} for a default)`);
      return token;
    }
    return value;
  });
  return { text, exact, problems };
}

/** Type `text` the way the YAML core schema types a plain scalar with that text. */
export function resolveCore(text: string): unknown {
  for (const tag of CORE_SCALARS) {
    if (!tag.test!.test(text)) continue;
    // Some tags (floats, booleans, null) wrap the value to remember its source format.
    const value = tag.resolve(text, () => {}, {});
    return isScalar(value) ? value.value : value;
  }
  return text;
}
