/**
 * Reading identity fields out of JWT claims by configurable dotted paths
 * (`realm_access.roles`, `scope`). A value may be an array of strings or one
 * space-separated string (the OAuth `scope` form); anything else counts as none.
 * At most 100 values are taken, each at most 128 characters, so a token cannot make
 * the identity headers arbitrarily large. A value containing `,` is dropped: roles travel
 * upstream as one comma-separated header, where `a,b` would read as two roles.
 */
const MAX_VALUES = 100;
const MAX_VALUE_LENGTH = 128;

/** The value at `path` in `claims`, or undefined. */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  let node: unknown = claims;
  for (const seg of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(node, seg)) return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** The strings at `path` (array or space-separated string); empty when absent or malformed. */
export function stringsAt(claims: Readonly<Record<string, unknown>>, path: string | null): string[] {
  if (path === null) return [];
  const v = claimAt(claims, path);
  const list = typeof v === 'string' ? v.split(' ') : Array.isArray(v) ? v : [];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string' || item === '' || item.length > MAX_VALUE_LENGTH || !/^[\x21-\x2b\x2d-\x7e]+$/.test(item)) continue;
    out.push(item);
    if (out.length === MAX_VALUES) break;
  }
  return out;
}
