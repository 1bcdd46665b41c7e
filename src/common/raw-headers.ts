/** Helpers on Node's flat `[name, value, ...]` raw header arrays. */

/** How many fields named `lowerName` (given in lower case) `raw` holds; length is compared first so most names cost no lower-casing. */
export function headerCount(raw: readonly string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) n++;
  }
  return n;
}
