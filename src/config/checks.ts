/**
 * Small checks shared by the environment loader and the library's options.
 * Each returns what is wrong (to be prefixed with the setting's name), or
 * `undefined` when the value is fine.
 */

/** Realm names as they appear in paths and issuers. */
export const REALM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkHttpUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be an absolute http(s) URL, got "${value}"`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an http(s) URL, got "${value}"`;
  return undefined;
}

export function checkInteger(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`;
  }
  return undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The names of `object` that are not in `known`, each with a "did you mean" when one is close. */
export function unknownKeys(object: object, known: readonly string[]): string[] {
  return Object.keys(object)
    .filter((key) => !known.includes(key))
    .map((key) => {
      const close = known.find((candidate) => editDistance(key, candidate) <= 2);
      return close ? `"${key}" (did you mean "${close}"?)` : `"${key}"`;
    });
}
