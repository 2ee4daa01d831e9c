import { randomInt } from 'node:crypto';
import type { PasswordPolicy, PolicyContext } from './policy';

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SPECIAL = '!#$%&*+-=?@^_~';
const ALL = LOWER + UPPER + DIGITS + SPECIAL;

/** Thrown when no random password satisfies the policy (e.g. a `regexPattern` random text cannot meet). */
export class PasswordGenerationError extends Error {
  override name = 'PasswordGenerationError';
}

/** Why a password generated from our alphabets can never meet this policy, or `undefined` when it can. */
function impossible(policy: PasswordPolicy): string | undefined {
  const max = policy.rules.find((rule) => rule.policy === 'maxLength')?.parameter;
  const needed = ['digits', 'lowerCase', 'upperCase', 'specialChars'].reduce((sum, name) => sum + Number(policy.rules.find((rule) => rule.policy === name)?.parameter ?? 0), 0);
  if (typeof max === 'number' && needed > max) return `the policy needs ${needed} characters of given kinds but allows at most ${max}`;
  return undefined;
}

function pick(alphabet: string): string {
  return alphabet.charAt(randomInt(alphabet.length));
}

/**
 * A random password that satisfies the realm's policy (Authgear's "Generate"):
 * at least 20 characters from an alphabet without look-alikes, with as many
 * digits, lower- and upper-case and special characters as the policy asks,
 * from the operating system's CSPRNG. The result is checked against the whole
 * policy; a policy random text cannot meet after several tries is an error.
 *
 * @throws PasswordGenerationError
 */
export function generatePassword(policy: PasswordPolicy, context: PolicyContext): string {
  const reason = impossible(policy);
  if (reason !== undefined) throw new PasswordGenerationError(`Cannot generate a password: ${reason}.`);
  const count = (name: string): number => Number(policy.rules.find((rule) => rule.policy === name)?.parameter ?? 0);
  const min = count('length');
  const max = policy.rules.find((rule) => rule.policy === 'maxLength')?.parameter;
  const length = Math.min(Math.max(20, min), typeof max === 'number' ? max : Number.POSITIVE_INFINITY);
  for (let attempt = 0; attempt < 20; attempt++) {
    const characters = [
      ...Array.from({ length: count('digits') }, () => pick(DIGITS)),
      ...Array.from({ length: count('lowerCase') }, () => pick(LOWER)),
      ...Array.from({ length: count('upperCase') }, () => pick(UPPER)),
      ...Array.from({ length: count('specialChars') }, () => pick(SPECIAL)),
    ];
    while (characters.length < length) characters.push(pick(ALL));
    // Fisher-Yates, so the required characters are not always first.
    for (let i = characters.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [characters[i], characters[j]] = [characters[j] ?? '', characters[i] ?? ''];
    }
    const password = characters.join('');
    if (policy.check(password, context).length === 0) return password;
  }
  throw new PasswordGenerationError("Cannot generate a password that meets the realm's policy; set one instead.");
}
