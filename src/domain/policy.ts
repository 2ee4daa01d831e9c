import type { PolicyViolation } from '../errors';
import { normalizePassword } from './hashing';

/** What a rule may look at besides the password. */
export interface PolicyContext {
  readonly username: string;
  readonly email: string | undefined;
}

/** One rule of a policy, as written in Keycloak's syntax: `name(parameter)`. */
export interface PolicyRule {
  readonly policy: string;
  readonly parameter: number;
  /** A violation when `password` breaks the rule, else `undefined`. */
  check(password: string, context: PolicyContext): PolicyViolation | undefined;
}

/** A realm's password policy: every rule is checked, every violation reported. */
export interface PasswordPolicy {
  /** The policy string it was parsed from, normalised. */
  readonly source: string;
  readonly rules: readonly PolicyRule[];
  check(password: string, context: PolicyContext): PolicyViolation[];
}

/** Thrown by `parsePasswordPolicy` for a policy string it cannot read. */
export class PolicySyntaxError extends Error {
  override name = 'PolicySyntaxError';
}

/** Code points, not UTF-16 units: an emoji is one character to a user. */
function length(password: string): number {
  return Array.from(normalizePassword(password)).length;
}

interface RuleDefinition {
  /** Keycloak's default when the rule is written without a parameter. */
  readonly defaultParameter: number;
  readonly build: (parameter: number) => PolicyRule['check'];
}

const RULES: Readonly<Record<string, RuleDefinition>> = {
  length: {
    defaultParameter: 8,
    build: (min) => (password) =>
      length(password) < min
        ? { policy: 'length', parameter: min, message: `The password must have at least ${min} characters.` }
        : undefined,
  },
  maxLength: {
    defaultParameter: 64,
    build: (max) => (password) =>
      length(password) > max
        ? { policy: 'maxLength', parameter: max, message: `The password must have at most ${max} characters.` }
        : undefined,
  },
};

/**
 * NIST SP 800-63B: at least 8 characters, at least 64 allowed, no composition rules.
 * (128 leaves room for passphrases; the pre-hash makes any length safe to hash.)
 */
export const DEFAULT_PASSWORD_POLICY = 'length(8) and maxLength(128)';

const TERM = /^([A-Za-z]+)(?:\(([^()]*)\))?$/;

/**
 * Parse a policy in Keycloak's syntax, e.g. `length(12) and maxLength(64)`.
 *
 * @throws PolicySyntaxError naming the term, its problem and the known names.
 * @example
 * const policy = parsePasswordPolicy('length(12)');
 * policy.check('short', { username: 'alice', email: undefined });
 * // [{ policy: 'length', parameter: 12, message: 'The password must have at least 12 characters.' }]
 */
export function parsePasswordPolicy(source: string): PasswordPolicy {
  const terms = source.trim() === '' ? [] : source.split(/\s+and\s+/);
  const seen = new Set<string>();
  const rules = terms.map((raw): PolicyRule => {
    const term = raw.trim();
    const match = TERM.exec(term);
    if (!match?.[1]) {
      throw new PolicySyntaxError(`"${term}" is not a policy term; expected name or name(parameter), joined by " and "`);
    }
    const name = match[1];
    const definition = RULES[name];
    if (!definition) {
      throw new PolicySyntaxError(`unknown policy "${name}"; known policies: ${Object.keys(RULES).join(', ')}`);
    }
    if (seen.has(name)) throw new PolicySyntaxError(`policy "${name}" is given twice`);
    seen.add(name);
    const argument = match[2]?.trim();
    const parameter = argument === undefined || argument === '' ? definition.defaultParameter : Number(argument);
    if (!Number.isInteger(parameter) || parameter < 0 || parameter > 4096) {
      throw new PolicySyntaxError(`${name}(${argument ?? ''}): the parameter must be an integer from 0 to 4096`);
    }
    return { policy: name, parameter, check: definition.build(parameter) };
  });
  const min = rules.find((r) => r.policy === 'length')?.parameter;
  const max = rules.find((r) => r.policy === 'maxLength')?.parameter;
  if (min !== undefined && max !== undefined && min > max) {
    throw new PolicySyntaxError(`length(${min}) is more than maxLength(${max}); no password could pass`);
  }
  return {
    source: rules.map((r) => `${r.policy}(${r.parameter})`).join(' and '),
    rules,
    check(password, context) {
      return rules.flatMap((rule) => rule.check(password, context) ?? []);
    },
  };
}
