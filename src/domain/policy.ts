import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PolicyViolation } from '../errors';
import { unknownKeys } from './did-you-mean';
import { HASH_ALGORITHMS, normalizePassword } from './hashing';
import type { HashAlgorithm } from './hashing';
import { isCommonPassword, strengthScore } from './strength';
import { POLICY_TERM, policyTerms } from './policy-terms';

/** What a rule may look at besides the password. */
export interface PolicyContext {
  readonly username: string;
  readonly email: string | undefined;
}

/** One rule of a policy, as written in Keycloak's syntax: `name` or `name(parameter)`. */
export interface PolicyRule {
  readonly policy: string;
  /** A count for the counting rules, the pattern for `regexPattern`, none for the flags. */
  readonly parameter: number | string | undefined;
  /** What the rule asks, as a user can read it; also the message of its violation. */
  readonly message: string;
  /** Whether `password` (already NFKC-normalised) satisfies the rule. */
  accepts(password: string, context: PolicyContext): boolean;
}

/** A rule as `GET .../password-policy` sends it. */
export interface RuleDescription {
  readonly policy: string;
  readonly parameter?: number | string;
  readonly message: string;
}

/** A realm's password policy: every rule is checked, every violation reported. */
export interface PasswordPolicy {
  /** The policy string it was parsed from, normalised. */
  readonly source: string;
  /** The rules a password must meet; `hashAlgorithm` and `hashIterations` say how it is stored instead (`hashing`). */
  readonly rules: readonly PolicyRule[];
  check(password: string, context: PolicyContext): PolicyViolation[];
  /** The rules, machine-readable, for account pages that check as the user types. */
  describe(): RuleDescription[];
  /**
   * `passwordHistory(n)`: the new password may not be any of the last n, the
   * current one counted; 0 without the rule. Enforced by the account service,
   * which holds the hashes.
   */
  readonly history: number;
  /**
   * `passwordAge(days)`: nor any password in use during the last `days` days;
   * 0 without the rule. Enforced by the account service.
   */
  readonly reuseDays: number;
  /**
   * `forceExpiredPasswordChange(days)`: a password set `days` or more days ago
   * asks for a new one (`UPDATE_PASSWORD`); 0 without the rule.
   */
  readonly expiresAfterDays: number;
  /**
   * `hashAlgorithm(name)` and `hashIterations(n)`: how new passwords are stored.
   * Undefined when the policy lacks the rule (the server's default applies), or
   * for `hashIterations(-1)`, Keycloak's "the algorithm's default".
   */
  readonly hashing: { readonly algorithm: HashAlgorithm | undefined; readonly iterations: number | undefined };
}

/** Thrown by `parsePasswordPolicy` for a policy string it cannot read. */
export class PolicySyntaxError extends Error {
  override name = 'PolicySyntaxError';
}

/** Code points, not UTF-16 units: an emoji is one character to a user. */
function characters(password: string): string[] {
  return Array.from(password);
}

/**
 * The most characters (code points, as given) a new password may have, whatever
 * the realm's policy: a bound on the work one request can ask for. A longer one
 * is a `maxLength` violation, found before any hash; `maxLength(n)` and
 * `length(n)` may not go beyond it.
 */
export const PASSWORD_HARD_CAP = 1024;

/** Whether a new password is over `PASSWORD_HARD_CAP`: then nothing but the policy's own rules may look at it, never a hash. */
export function exceedsHardCap(password: string): boolean {
  // Code points cannot outnumber UTF-16 units: most passwords are decided without counting.
  return password.length > PASSWORD_HARD_CAP && characters(password).length > PASSWORD_HARD_CAP;
}

function countOf(password: string, test: (character: string) => boolean): number {
  return characters(password).filter(test).length;
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

function maxLengthMessage(n: number): string {
  return `The password must have at most ${plural(n, 'character', 'characters')}.`;
}

/** Keycloak's `Character.isDigit`, `isLowerCase`, `isUpperCase`, `!isLetterOrDigit`, for all of Unicode. */
const isDigit = (c: string): boolean => /^\p{Nd}$/u.test(c);
const isLower = (c: string): boolean => /^\p{Ll}$/u.test(c);
const isUpper = (c: string): boolean => /^\p{Lu}$/u.test(c);
const isSpecial = (c: string): boolean => !/^[\p{L}\p{Nd}]$/u.test(c);

type Definition =
  | {
      readonly kind: 'count';
      /** Keycloak's default when written without a parameter. */
      readonly defaultParameter: number;
      /** The range of parameters that make sense; 0 to 4096 when absent. */
      readonly min?: number;
      readonly max?: number;
      readonly message: (n: number) => string;
      readonly accepts: (password: string, n: number, context: PolicyContext) => boolean;
    }
  | { readonly kind: 'flag'; readonly message: string; readonly accepts: (password: string, context: PolicyContext) => boolean }
  | { readonly kind: 'pattern'; readonly message: (pattern: string) => string }
  | {
      readonly kind: 'file';
      readonly message: string;
      /** Read the file at start-up; the test it returns is called per password. */
      readonly load: (path: string) => (password: string) => boolean;
    }
  /** How passwords are stored, not what they may be: read by the realm's hash scheme, never checked against a password. */
  | { readonly kind: 'hashing'; readonly message: (parameter: string | number) => string; readonly parse: (argument: string | undefined) => string | number | undefined }
  /** Keycloak policies that mean nothing here; naming them stops start-up with the reason. */
  | { readonly kind: 'unsupported'; readonly reason: string };

/** The unit of `passwordAge` and `forceExpiredPasswordChange`. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Enforced outside `check` (by the account service or at validation): always accepted here. */
const elsewhere = (): boolean => true;

/** Keycloak's `passwordBlacklist`: one password per line, compared case-insensitively. */
function loadForbiddenList(path: string): (password: string) => boolean {
  const text = readFileSync(resolve(path), 'utf8');
  const forbidden = new Set(
    text
      .split(/\r?\n/)
      .map((line) => normalizePassword(line.trim()).toLowerCase())
      .filter((line) => line !== ''),
  );
  return (password) => !forbidden.has(password.toLowerCase());
}

const RULES: Readonly<Record<string, Definition>> = {
  length: {
    kind: 'count',
    defaultParameter: 8,
    max: PASSWORD_HARD_CAP,
    message: (n) => `The password must have at least ${plural(n, 'character', 'characters')}.`,
    accepts: (password, n) => characters(password).length >= n,
  },
  maxLength: {
    kind: 'count',
    defaultParameter: 64,
    max: PASSWORD_HARD_CAP,
    message: maxLengthMessage,
    accepts: (password, n) => characters(password).length <= n,
  },
  digits: {
    kind: 'count',
    defaultParameter: 1,
    message: (n) => `The password must contain at least ${plural(n, 'digit', 'digits')}.`,
    accepts: (password, n) => countOf(password, isDigit) >= n,
  },
  lowerCase: {
    kind: 'count',
    defaultParameter: 1,
    message: (n) => `The password must contain at least ${plural(n, 'lower-case letter', 'lower-case letters')}.`,
    accepts: (password, n) => countOf(password, isLower) >= n,
  },
  upperCase: {
    kind: 'count',
    defaultParameter: 1,
    message: (n) => `The password must contain at least ${plural(n, 'upper-case letter', 'upper-case letters')}.`,
    accepts: (password, n) => countOf(password, isUpper) >= n,
  },
  passwordHistory: {
    kind: 'count',
    defaultParameter: 3,
    message: (n) => `The password must not be one of the last ${plural(n, 'password', 'passwords')}.`,
    // Needs the stored hashes: checked by the account service.
    accepts: elsewhere,
  },
  passwordAge: {
    kind: 'count',
    defaultParameter: 365,
    min: 1,
    max: 36500,
    message: (n) => `The password must not be one used in the last ${plural(n, 'day', 'days')}.`,
    // Needs the stored hashes: checked by the account service.
    accepts: elsewhere,
  },
  forceExpiredPasswordChange: {
    kind: 'count',
    defaultParameter: 365,
    min: 1,
    max: 36500,
    message: (n) => `The password must be changed every ${plural(n, 'day', 'days')}.`,
    // Not a property of the password: an old one shows up as UPDATE_PASSWORD.
    accepts: elsewhere,
  },
  minStrength: {
    kind: 'count',
    defaultParameter: 3,
    max: 4,
    message: (n) => `The password must be harder to guess (a strength of at least ${n} out of 4).`,
    accepts: (password, n, { username, email }) => strengthScore(password, [username, ...(email === undefined ? [] : [email])]) >= n,
  },
  specialChars: {
    kind: 'count',
    defaultParameter: 1,
    message: (n) => `The password must contain at least ${plural(n, 'special character', 'special characters')}.`,
    accepts: (password, n) => countOf(password, isSpecial) >= n,
  },
  notUsername: {
    kind: 'flag',
    message: 'The password must not be the username.',
    accepts: (password, { username }) => password.toLowerCase() !== normalizePassword(username).toLowerCase(),
  },
  notContainsUsername: {
    kind: 'flag',
    message: 'The password must not contain the username.',
    accepts: (password, { username }) => username === '' || !password.toLowerCase().includes(normalizePassword(username).toLowerCase()),
  },
  notEmail: {
    kind: 'flag',
    message: 'The password must not be the email address.',
    accepts: (password, { email }) => email === undefined || password.toLowerCase() !== normalizePassword(email).toLowerCase(),
  },
  notCompromised: {
    kind: 'flag',
    message: 'The password must not be a common or breached password.',
    accepts: (password) => !isCommonPassword(password),
  },
  regexPattern: {
    kind: 'pattern',
    message: (pattern) => `The password must match the pattern ${pattern}.`,
  },
  passwordBlacklist: {
    kind: 'file',
    message: 'The password must not be on the list of forbidden passwords.',
    load: loadForbiddenList,
  },
  hashAlgorithm: {
    kind: 'hashing',
    message: (algorithm) => `New passwords are stored with ${algorithm}.`,
    parse(argument) {
      // Keycloak's default when written without one (not in FIPS mode).
      if (argument === undefined || argument === '') return 'argon2';
      if (!(HASH_ALGORITHMS as readonly string[]).includes(argument)) {
        throw new PolicySyntaxError(`hashAlgorithm(${argument}): unknown algorithm; known: ${HASH_ALGORITHMS.join(', ')}`);
      }
      return argument;
    },
  },
  hashIterations: {
    kind: 'hashing',
    message: (n) => `New passwords are hashed with ${n} iterations.`,
    parse(argument) {
      // Keycloak's default value, -1, means the algorithm's own default.
      if (argument === undefined || argument === '' || argument === '-1') return undefined;
      const n = Number(argument);
      if (!/^\d{1,10}$/.test(argument) || n < 1 || n > 2 ** 31 - 1) {
        throw new PolicySyntaxError(`hashIterations(${argument}): the parameter must be a positive integer (or -1 for the algorithm's default)`);
      }
      return n;
    },
  },
  maxAuthAge: {
    kind: 'unsupported',
    reason: "set the realm's maxAuthAge option instead (RFC 9470 step-up for reset-password)",
  },
};

/**
 * NIST SP 800-63B: at least 8 characters, at least 64 allowed, no composition
 * rules, not a common or breached password, not the username or email. (128
 * leaves room for passphrases; the pre-hash makes any length safe to hash.)
 */
export const DEFAULT_PASSWORD_POLICY = 'length(8) and maxLength(128) and notCompromised and notUsername and notEmail';

const HARD_CAP_VIOLATION: PolicyViolation = { policy: 'maxLength', parameter: PASSWORD_HARD_CAP, message: maxLengthMessage(PASSWORD_HARD_CAP) };



/** Whether parentheses in `text` close in order (a `\` escapes the next character). */
function balanced(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function build(term: string): PolicyRule {
  const match = POLICY_TERM.exec(term);
  if (!match?.[1] || !balanced(match[2] ?? '')) throw new PolicySyntaxError(`"${term}" is not a policy term; expected name or name(parameter), joined by " and "`);
  const name = match[1];
  const definition = RULES[name];
  if (!definition) {
    const [described] = unknownKeys({ [name]: true }, Object.keys(RULES));
    const known = Object.entries(RULES).filter(([, rule]) => rule.kind !== 'unsupported');
    throw new PolicySyntaxError(`unknown policy ${described ?? `"${name}"`}; known policies: ${known.map(([known]) => known).join(', ')}`);
  }
  const argument = match[2]?.trim();
  switch (definition.kind) {
    case 'count': {
      const { min = 0, max = 4096 } = definition;
      const n = argument === undefined || argument === '' ? definition.defaultParameter : Number(argument);
      if (!Number.isInteger(n) || n < min || n > max) throw new PolicySyntaxError(`${name}(${argument ?? ''}): the parameter must be an integer from ${min} to ${max}`);
      return { policy: name, parameter: n, message: definition.message(n), accepts: (password, context) => definition.accepts(password, n, context) };
    }
    case 'flag':
      // Keycloak's admin console saves flags as `notUsername(undefined)`; read that as the flag.
      if (argument !== undefined && argument !== '' && argument !== 'undefined') throw new PolicySyntaxError(`${name} takes no parameter, got "${argument}"`);
      return { policy: name, parameter: undefined, message: definition.message, accepts: definition.accepts };
    case 'file': {
      if (argument === undefined || argument === '') throw new PolicySyntaxError(`${name} needs a file, e.g. ${name}(forbidden-passwords.txt)`);
      let accepts: (password: string) => boolean;
      try {
        accepts = definition.load(argument);
      } catch (error) {
        throw new PolicySyntaxError(`${name}(${argument}): cannot read ${resolve(argument)}: ${(error as Error).message}`);
      }
      return { policy: name, parameter: argument, message: definition.message, accepts };
    }
    case 'unsupported':
      throw new PolicySyntaxError(`policy "${name}" is not supported: ${definition.reason}`);
    case 'hashing': {
      const parameter = definition.parse(argument);
      return { policy: name, parameter, message: parameter === undefined ? '' : definition.message(parameter), accepts: elsewhere };
    }
    case 'pattern': {
      if (argument === undefined || argument === '') throw new PolicySyntaxError(`${name} needs a pattern, e.g. ${name}([a-z]+)`);
      let pattern: RegExp;
      try {
        // Java's Pattern.matches: the whole password must match.
        pattern = new RegExp(`^(?:${argument})$`, 'u');
      } catch (error) {
        throw new PolicySyntaxError(`${name}(${argument}): not a valid regular expression: ${(error as Error).message}`);
      }
      return { policy: name, parameter: argument, message: definition.message(argument), accepts: (password) => pattern.test(password) };
    }
  }
}

/** The count of a counting rule, 0 when the policy lacks it. */
function parameterOf(rules: readonly PolicyRule[], policy: string): number {
  return Number(rules.find((r) => r.policy === policy)?.parameter ?? 0);
}

/**
 * Whether a password set at `setAt` is due for a change under
 * `forceExpiredPasswordChange(days)` (0: never).
 */
export function passwordExpired(setAt: Date, expiresAfterDays: number, now: Date): boolean {
  return expiresAfterDays > 0 && now.getTime() - setAt.getTime() >= expiresAfterDays * DAY_MS;
}

/**
 * Parse a policy in Keycloak's syntax, e.g. `length(12) and digits(1) and notUsername`.
 *
 * @throws PolicySyntaxError naming the term, its problem and the known names.
 * @example
 * const policy = parsePasswordPolicy('length(12)');
 * policy.check('short', { username: 'alice', email: undefined });
 * // [{ policy: 'length', parameter: 12, message: 'The password must have at least 12 characters.' }]
 */
export function parsePasswordPolicy(source: string): PasswordPolicy {
  const rules = policyTerms(source).map(build);
  const seen = new Set<string>();
  for (const rule of rules) {
    // Keycloak allows one of each, but several regexPattern terms (all must match).
    if (seen.has(rule.policy) && rule.policy !== 'regexPattern') throw new PolicySyntaxError(`policy "${rule.policy}" is given twice`);
    seen.add(rule.policy);
  }
  const min = rules.find((r) => r.policy === 'length')?.parameter;
  const max = rules.find((r) => r.policy === 'maxLength')?.parameter;
  if (typeof min === 'number' && typeof max === 'number' && min > max) {
    throw new PolicySyntaxError(`length(${min}) is more than maxLength(${max}); no password could pass`);
  }
  const passwordRules = rules.filter((rule) => RULES[rule.policy]?.kind !== 'hashing');
  const hashAlgorithm = rules.find((r) => r.policy === 'hashAlgorithm')?.parameter;
  const hashIterations = rules.find((r) => r.policy === 'hashIterations')?.parameter;
  return {
    source: rules.map((r) => (r.parameter === undefined ? r.policy : `${r.policy}(${r.parameter})`)).join(' and '),
    rules: passwordRules,
    check(password, context) {
      const normalised = normalizePassword(password);
      const violations: PolicyViolation[] = passwordRules
        .filter((rule) => !rule.accepts(normalised, context))
        .map((rule) => ({ policy: rule.policy, ...(rule.parameter === undefined ? {} : { parameter: rule.parameter }), message: rule.message }));
      // A realm without maxLength still has the hard cap; with one, its own rule (at most the cap) has already spoken.
      if (exceedsHardCap(password) && !violations.some((violation) => violation.policy === 'maxLength')) violations.push(HARD_CAP_VIOLATION);
      return violations;
    },
    history: parameterOf(rules, 'passwordHistory'),
    reuseDays: parameterOf(rules, 'passwordAge'),
    expiresAfterDays: parameterOf(rules, 'forceExpiredPasswordChange'),
    hashing: {
      algorithm: hashAlgorithm as HashAlgorithm | undefined,
      iterations: typeof hashIterations === 'number' ? hashIterations : undefined,
    },
    describe() {
      return passwordRules.map((rule) => ({ policy: rule.policy, ...(rule.parameter === undefined ? {} : { parameter: rule.parameter }), message: rule.message }));
    },
  };
}
