/**
 * The syntax of a Keycloak password policy string, shared by the service's
 * policy (src/domain/policy.ts) and the admin console's page (console/),
 * so both read a realm's policy the same way. Pure, with no imports: the
 * console's bundle takes this file as it is.
 */

/** One term: `name` or `name(parameter)`; the parameter may hold anything, `and` and parentheses included. */
export const POLICY_TERM = /^([A-Za-z]+)(?:\((.*)\))?$/s;

/** Split a policy on ` and ` outside parentheses, so a `regexPattern` may hold either. */
export function policyTerms(source: string): string[] {
  const found: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0) {
      const separator = /^\s+and\s+/.exec(source.slice(i));
      if (separator) {
        found.push(source.slice(start, i));
        i += separator[0].length - 1;
        start = i + 1;
      }
    }
  }
  found.push(source.slice(start));
  return found.map((term) => term.trim()).filter((term) => term !== '');
}
