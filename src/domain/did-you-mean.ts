/**
 * Names that are not known, each with the closest known one when it is near:
 * the "did you mean" of policy names, options and configuration keys.
 */

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
