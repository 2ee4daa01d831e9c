/**
 * Options of passwords: the policy a new one must meet, brute force
 * detection, and how hashes are computed (bcrypt's cost, the hash queue).
 */
import type { HashQueueLimits } from '../domain/hash-queue';
import type { HashAlgorithm, PasswordHasher } from '../domain/hashing';
import { BCRYPT_COST_RANGE } from '../domain/hashing';
import { DEFAULT_BRUTE_FORCE } from '../domain/lockout';
import type { BruteForceSettings } from '../domain/lockout';
import { parsePasswordPolicy, PolicySyntaxError } from '../domain/policy';
import type { PasswordPolicy } from '../domain/policy';
import { defaultHashConcurrency, DEFAULTS } from './defaults';
import { resolveHashDefaults } from './hash-options';
import type { Argon2Options, HashDefaults } from './hash-options';
import { fail, integer, refuseUnknown } from './option-checks';

/** A realm's password settings. */
export interface RealmPasswordOptions {
  /**
   * Keycloak policy string. Default: the top-level `passwordPolicy`. Its
   * `hashAlgorithm(argon2|bcrypt|pbkdf2-sha512|pbkdf2-sha256|pbkdf2)` and
   * `hashIterations(n)` say how new passwords are stored (default: the
   * top-level `hashAlgorithm`, with Keycloak's iterations for it).
   */
  readonly passwordPolicy?: string;
  /** argon2's memory and lanes for this realm. Default: the top-level `argon2`. */
  readonly argon2?: Argon2Options;
  /** Brute force detection, Keycloak's settings; each unset one takes `DEFAULT_BRUTE_FORCE`'s value. */
  readonly bruteForce?: Partial<BruteForceSettings>;
}

/** The service-wide password settings. */
export interface PasswordOptions {
  /**
   * The algorithm of realms whose policy has no `hashAlgorithm`: `argon2`
   * (argon2id), `bcrypt` (bcrypt-sha256), `pbkdf2-sha512`, `pbkdf2-sha256` or
   * `pbkdf2`. Default: `argon2`.
   */
  readonly hashAlgorithm?: HashAlgorithm;
  /** argon2's memory (KiB, 7168 to 1048576) and lanes (1 to 16). Defaults: 7168 and 1, Keycloak's. */
  readonly argon2?: Argon2Options;
  /** bcrypt work factor, 10 to 15, of realms hashing with bcrypt and no `hashIterations`. Default: 12. */
  readonly bcryptCost?: number;
  /** Policy of realms that set none. Default: `length(8) and maxLength(128)` (NIST SP 800-63B). */
  readonly passwordPolicy?: string;
  /** Replaces the hasher (to instrument it). Default: `createPasswordHasher()`. It runs behind the hash queue too. */
  readonly hasher?: PasswordHasher;
  /**
   * The queue every hash goes through, admitting by time: at most
   * `concurrency` run at once (default: the number of cores); a hash is
   * admitted while the work waiting ahead of it needs at most `budgetMs`
   * (measured hash time x waiting / concurrency; default 15000), and once
   * hashes have arrived faster than they finish for `intervalMs` (default
   * 1000) only what starts within one hash time, newest first. Refused work
   * gets `503 temporarily_unavailable` with `Retry-After` at once. Set
   * `UV_THREADPOOL_SIZE` to more than `concurrency` (the `serve` command
   * does), or bcrypt waits in libuv's pool of 4.
   */
  readonly hashQueue?: { readonly concurrency?: number; readonly budgetMs?: number; readonly intervalMs?: number };
}

/** How hashes are computed, checked and completed. */
export interface ResolvedHashing {
  /** What each realm's hash scheme falls back on. */
  readonly hashDefaults: HashDefaults;
  readonly hasher: PasswordHasher | undefined;
  readonly hashQueue: HashQueueLimits;
}

const HASH_QUEUE_OPTION_NAMES = ['concurrency', 'budgetMs', 'intervalMs'];

export function resolvePolicy(name: string, source: string): PasswordPolicy {
  try {
    return parsePasswordPolicy(source);
  } catch (error) {
    if (error instanceof PolicySyntaxError) fail(name, error.message);
    throw error;
  }
}

export function resolveBruteForce(name: string, given: Partial<BruteForceSettings> | undefined): BruteForceSettings {
  const settings = { ...DEFAULT_BRUTE_FORCE, ...given };
  refuseUnknown(name, settings, Object.keys(DEFAULT_BRUTE_FORCE));
  const int = (key: keyof BruteForceSettings, min: number, max: number): number => integer(`${name}.${key}`, settings[key] as number, 0, min, max);
  if (typeof settings.permanentLockout !== 'boolean') fail(`${name}.permanentLockout`, `must be true or false, got ${JSON.stringify(settings.permanentLockout)}`);
  return Object.freeze({
    failureFactor: int('failureFactor', 1, 10_000),
    waitIncrementSeconds: int('waitIncrementSeconds', 0, 86_400),
    maxFailureWaitSeconds: int('maxFailureWaitSeconds', 0, 86_400 * 30),
    failureResetTimeSeconds: int('failureResetTimeSeconds', 1, 86_400 * 30),
    quickLoginCheckMilliSeconds: int('quickLoginCheckMilliSeconds', 0, 60_000),
    minimumQuickLoginWaitSeconds: int('minimumQuickLoginWaitSeconds', 0, 86_400),
    permanentLockout: settings.permanentLockout,
    maxTemporaryLockouts: int('maxTemporaryLockouts', 0, 1_000),
  });
}

export function resolveHashing(options: PasswordOptions): ResolvedHashing {
  const hashQueue = options.hashQueue ?? {};
  if ('maxWaiting' in hashQueue) fail('options.hashQueue.maxWaiting', 'is gone: hashes are admitted by time, not by count; give hashQueue.budgetMs (the most time queued work may need) instead');
  refuseUnknown('options.hashQueue', hashQueue, HASH_QUEUE_OPTION_NAMES);
  return {
    hashDefaults: resolveHashDefaults(
      {
        hashAlgorithm: options.hashAlgorithm,
        bcryptCost: integer('options.bcryptCost', options.bcryptCost, DEFAULTS.bcryptCost, BCRYPT_COST_RANGE.min, BCRYPT_COST_RANGE.max),
        ...(options.argon2 === undefined ? {} : { argon2: options.argon2 }),
      },
      fail,
    ),
    hasher: options.hasher,
    hashQueue: Object.freeze({
      concurrency: integer('options.hashQueue.concurrency', hashQueue.concurrency, defaultHashConcurrency(), 1, 1024),
      budgetMs: integer('options.hashQueue.budgetMs', hashQueue.budgetMs, DEFAULTS.hashQueueBudgetMs, 0, 600_000),
      intervalMs: integer('options.hashQueue.intervalMs', hashQueue.intervalMs, DEFAULTS.hashQueueIntervalMs, 10, 600_000),
    }),
  };
}
