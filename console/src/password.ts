/**
 * The realm's password rules, read from its Keycloak policy string (what
 * `GET /admin/realms/{realm}` answers as `passwordPolicy`), and a generator
 * of passwords that meet them. Pure: the browser's CSPRNG is passed in.
 *
 * It reads the policy with the service's own syntax (src/domain/policy-terms.ts).
 * The service's parser and generator (src/domain/policy.ts,
 * password-generator.ts) read files and use Node's crypto and zxcvbn, which
 * have no place in the page; the service checks every password it is given
 * in any case, and the console shows each rule it finds broken.
 */

import { POLICY_TERM, policyTerms } from '../../src/domain/policy-terms';

/** One rule: `name` or `name(parameter)`. */
export interface Rule {
  readonly policy: string;
  readonly parameter: string | undefined;
}

/** The rules of a policy string; hashing settings (`hashAlgorithm`, `hashIterations`) are not rules a password meets. */
export function parsePolicy(source: string | undefined): Rule[] {
  return policyTerms(source ?? '')
    .map((term) => {
      const match = POLICY_TERM.exec(term);
      return { policy: match?.[1] ?? term, parameter: match?.[2]?.trim() || undefined };
    })
    .filter((rule) => rule.policy !== 'hashAlgorithm' && rule.policy !== 'hashIterations');
}

/** Keycloak's default parameter of each counting rule, when written without one. */
const DEFAULT_COUNTS: Readonly<Record<string, number>> = {
  length: 8, maxLength: 64, digits: 1, lowerCase: 1, upperCase: 1, specialChars: 1, passwordHistory: 3, passwordAge: 365, forceExpiredPasswordChange: 365, minStrength: 3,
};

function count(rule: Rule): number {
  const n = Number(rule.parameter);
  return rule.parameter !== undefined && Number.isInteger(n) ? n : (DEFAULT_COUNTS[rule.policy] ?? 0);
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** What a rule asks, as an administrator reads it (the service's wording). */
export function describeRule(rule: Rule): string {
  const n = count(rule);
  switch (rule.policy) {
    case 'length': return `At least ${plural(n, 'character', 'characters')}.`;
    case 'maxLength': return `At most ${plural(n, 'character', 'characters')}.`;
    case 'digits': return `At least ${plural(n, 'digit', 'digits')}.`;
    case 'lowerCase': return `At least ${plural(n, 'lower-case letter', 'lower-case letters')}.`;
    case 'upperCase': return `At least ${plural(n, 'upper-case letter', 'upper-case letters')}.`;
    case 'specialChars': return `At least ${plural(n, 'special character', 'special characters')}.`;
    case 'passwordHistory': return `Not one of the last ${plural(n, 'password', 'passwords')}.`;
    case 'passwordAge': return `Not one used in the last ${plural(n, 'day', 'days')}.`;
    case 'forceExpiredPasswordChange': return `Changed every ${plural(n, 'day', 'days')}.`;
    case 'minStrength': return `Hard to guess (a strength of at least ${n} out of 4).`;
    case 'notUsername': return 'Not the username.';
    case 'notContainsUsername': return 'Does not contain the username.';
    case 'notEmail': return 'Not the email address.';
    case 'notCompromised': return 'Not a common or breached password.';
    case 'regexPattern': return `Matches the pattern ${rule.parameter ?? ''}.`;
    case 'passwordBlacklist': return 'Not on the list of forbidden passwords.';
    default: return rule.parameter === undefined ? rule.policy : `${rule.policy}(${rule.parameter})`;
  }
}

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SPECIAL = '!#$%&*+-=?@^_~';
const ALL = LOWER + UPPER + DIGITS + SPECIAL;

/** Fills its argument with random values: `crypto.getRandomValues`, bound. */
export type RandomValues = (array: Uint32Array) => Uint32Array;

/** An index below `n`, uniform: values past the last whole multiple of `n` are drawn again. */
function randomBelow(n: number, random: RandomValues): number {
  const limit = 2 ** 32 - (2 ** 32 % n);
  const one = new Uint32Array(1);
  for (;;) {
    const value = random(one)[0] ?? 0;
    if (value < limit) return value % n;
  }
}

/** Thrown when the rules cannot be met by a generated password. */
export class GenerationError extends Error {
  override name = 'GenerationError';
}

/**
 * A random password that meets `rules` as far as the page can tell (the
 * counting rules; the service checks the rest when it is set): at least 20
 * characters, more if `length` asks, fewer if `maxLength` does, from
 * alphabets without look-alikes, with the digits, letters and special
 * characters asked for, shuffled.
 *
 * @throws GenerationError when the counts asked for exceed `maxLength`.
 */
export function generatePassword(rules: readonly Rule[], random: RandomValues): string {
  const asked = (policy: string): number => Math.max(0, ...rules.filter((rule) => rule.policy === policy).map(count));
  const max = rules.some((rule) => rule.policy === 'maxLength') ? Math.min(...rules.filter((rule) => rule.policy === 'maxLength').map(count)) : Number.POSITIVE_INFINITY;
  const required = [...Array<string>(asked('digits')).fill(DIGITS), ...Array<string>(asked('lowerCase')).fill(LOWER), ...Array<string>(asked('upperCase')).fill(UPPER), ...Array<string>(asked('specialChars')).fill(SPECIAL)];
  if (required.length > max) throw new GenerationError(`The rules ask for ${required.length} characters of given kinds but allow at most ${max}: set a password instead.`);
  const length = Math.min(Math.max(20, asked('length'), required.length), max);
  const characters = [...required, ...Array<string>(length - required.length).fill(ALL)].map((alphabet) => alphabet.charAt(randomBelow(alphabet.length, random)));
  // Fisher-Yates, so the required kinds are not always first.
  for (let i = characters.length - 1; i > 0; i--) {
    const j = randomBelow(i + 1, random);
    [characters[i], characters[j]] = [characters[j] ?? '', characters[i] ?? ''];
  }
  return characters.join('');
}
