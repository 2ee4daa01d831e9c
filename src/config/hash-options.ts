/**
 * A realm's hash scheme, from its policy's `hashAlgorithm` and
 * `hashIterations` (Keycloak's rules and meanings), its `argon2` settings and
 * the service-wide defaults, checked up front.
 */
import { HASH_ALGORITHMS, HASH_SETTING_RANGES, hashSchemeProblem, KEYCLOAK_HASH_DEFAULTS } from '../domain/hashing';
import type { HashAlgorithm, HashScheme } from '../domain/hashing';
import type { PasswordPolicy } from '../domain/policy';
import { unknownKeys } from '../domain/did-you-mean';
import { DEFAULTS } from './defaults';

/** argon2's memory and lanes; its passes are the policy's `hashIterations`. */
export interface Argon2Options {
  /** KiB per hash, 7168 to 1048576. Default: 7168 (Keycloak's and OWASP's m = 7 MiB with t = 5). */
  readonly memory?: number;
  /** Lanes, 1 to 16. Default: 1. */
  readonly parallelism?: number;
}

/** What a realm's scheme falls back on. */
export interface HashDefaults {
  readonly algorithm: HashAlgorithm;
  readonly bcryptCost: number;
  readonly argon2: Required<Argon2Options>;
}

type Fail = (name: string, problem: string) => never;

/** The service-wide defaults, `hashAlgorithm`, `bcryptCost` (checked by the caller) and `argon2`, checked. */
export function resolveHashDefaults(options: { readonly hashAlgorithm?: unknown; readonly bcryptCost: number; readonly argon2?: Argon2Options }, fail: Fail): HashDefaults {
  const algorithm = options.hashAlgorithm ?? DEFAULTS.hashAlgorithm;
  if (typeof algorithm !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(algorithm)) {
    fail('options.hashAlgorithm', `must be one of ${HASH_ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}`);
  }
  const argon2 = argon2Options('options.argon2', options.argon2, fail);
  for (const [key, range] of [['memory', HASH_SETTING_RANGES.argon2Memory], ['parallelism', HASH_SETTING_RANGES.argon2Parallelism]] as const) {
    const value = argon2[key];
    if (value !== undefined && (!Number.isInteger(value) || value < range.min || value > range.max)) {
      fail(`options.argon2.${key}`, `must be an integer from ${range.min} to ${range.max}, got ${JSON.stringify(value)}`);
    }
  }
  return {
    algorithm: algorithm as HashAlgorithm,
    bcryptCost: options.bcryptCost,
    argon2: { memory: argon2.memory ?? DEFAULTS.argon2Memory, parallelism: argon2.parallelism ?? DEFAULTS.argon2Parallelism },
  };
}

/** `given` as a caller or a config file wrote it: any shape, checked. */
function argon2Options(name: string, given: unknown, fail: Fail): Argon2Options {
  if (given === undefined) return {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return fail(name, 'must be an object: { memory, parallelism }');
  const extra = unknownKeys(given, ['memory', 'parallelism']);
  if (extra.length > 0) fail(name, `unknown ${extra.length === 1 ? 'option' : 'options'} ${extra.join(', ')} (argon2's passes are the policy's hashIterations)`);
  return given;
}

/** Where a realm's settings were given, for messages: `options.realms.alpha.passwordPolicy`, `PASSWORD_POLICY`, ... */
export interface HashSettingNames {
  /** Where the policy (and so `hashIterations`) came from. */
  readonly policy: string;
  /** Where the realm's `argon2` settings came from. */
  readonly argon2: string;
}

/**
 * The scheme new passwords of a realm are stored with. Without
 * `hashIterations`, each algorithm takes Keycloak's default (argon2 5 passes,
 * pbkdf2-sha512 210,000, pbkdf2-sha256 600,000, pbkdf2 1,300,000) and bcrypt
 * the service's `bcryptCost`.
 *
 * @example
 * const names = { policy: 'options.realms.alpha.passwordPolicy', argon2: 'options.realms.alpha.argon2' };
 * resolveHashScheme(names, parsePasswordPolicy('hashAlgorithm(pbkdf2-sha512)'), undefined, defaults, fail);
 * // { algorithm: 'pbkdf2-sha512', iterations: 210000 }
 */
export function resolveHashScheme(names: HashSettingNames, policy: PasswordPolicy, realmArgon2: Argon2Options | undefined, defaults: HashDefaults, fail: Fail): HashScheme {
  const algorithm = policy.hashing.algorithm ?? defaults.algorithm;
  const given = policy.hashing.iterations;
  const argon2 = argon2Options(names.argon2, realmArgon2, fail);
  let scheme: HashScheme;
  switch (algorithm) {
    case 'argon2':
      scheme = {
        algorithm,
        iterations: given ?? KEYCLOAK_HASH_DEFAULTS.argon2.iterations,
        memory: argon2.memory ?? defaults.argon2.memory,
        parallelism: argon2.parallelism ?? defaults.argon2.parallelism,
      };
      break;
    case 'bcrypt':
      scheme = { algorithm, iterations: given ?? defaults.bcryptCost };
      break;
    case 'pbkdf2':
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512':
      scheme = { algorithm, iterations: given ?? KEYCLOAK_HASH_DEFAULTS[algorithm].iterations };
      break;
  }
  const argon2Name = (key: 'memory' | 'parallelism'): string => (argon2[key] === undefined ? `options.argon2.${key}` : `${names.argon2}.${key}`);
  const problem = hashSchemeProblem(scheme, {
    iterations: `${names.policy}: hashIterations(${given ?? ''})`,
    memory: argon2Name('memory'),
    parallelism: argon2Name('parallelism'),
  });
  if (problem) fail(problem.setting, problem.problem);
  return Object.freeze(scheme);
}
