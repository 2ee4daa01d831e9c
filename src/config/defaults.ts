import { availableParallelism } from 'node:os';
import { DEFAULT_PASSWORD_POLICY } from '../domain/policy';

/**
 * Every default, each beside its reason. README's configuration table is
 * checked against this object by a test.
 */
export const DEFAULTS = {
  /** The usual unprivileged HTTP port for a service behind a proxy. */
  port: 8080,
  /**
   * OWASP's and NIST SP 800-63B's first choice is a memory-hard function:
   * argon2id. Measured here (README, Performance) it checks several times more
   * passwords per core than bcrypt at OWASP's equivalent settings.
   */
  hashAlgorithm: 'argon2',
  /**
   * OWASP lists m = 7 MiB with t = 5 as equal to m = 19 MiB with t = 2; the
   * smaller memory ran ~1.6x faster here (it stays in cache), and it is
   * Keycloak's default, so credentials imported from Keycloak need no re-hash.
   */
  argon2Memory: 7168,
  /** OWASP's p = 1: lanes beyond one only help when a core sits idle, and under load none does. */
  argon2Parallelism: 1,
  /** For realms with `hashAlgorithm(bcrypt)`. OWASP's floor is 10; 12 costs ~250 ms of one core here, slow for guessing, fast enough for a person. */
  bcryptCost: 12,
  /** NIST SP 800-63B: length only, no composition rules. */
  passwordPolicy: DEFAULT_PASSWORD_POLICY,
  /** pino's own default. */
  logLevel: 'info',
  /** Keycloak and most IdPs run NTP; 30 s absorbs drift without keeping expired tokens alive. */
  clockToleranceSeconds: 30,
  /** A JWKS fetch that takes longer means the IdP is in trouble: fail closed with 503. */
  jwksTimeoutMs: 5_000,
  /** jose's default: an unknown `kid` refetches the set at most every 30 s. */
  jwksCooldownMs: 30_000,
  /** jose's default: keys are refetched after 10 minutes, so a removed key stops working within that bound. */
  jwksCacheMaxAgeMs: 600_000,
  /** A token issued before a password change must not outlive it (a stolen session ends with the change). */
  revokeTokensOnPasswordChange: true,
  /** One request's time for the database in all (each operation gets what is left): longer is treated as away, 503 and retry, never a hanging request. */
  databaseTimeoutMs: 2_000,
  /** Keycloak keeps events until told otherwise; 90 days covers an incident review without keeping personal data for ever. */
  eventRetentionDays: 90,
  /** A Keycloak (sidecar mode) slower than the database deadline is treated the same way: 503 and retry. */
  keycloakTimeoutMs: 5_000,
  /** The role a login server's service account holds to call login-check: one purpose, one name, granted to nobody by accident. */
  loginCheckRole: 'login-check',
  /** The largest legitimate body is two passwords; 16 KiB leaves room and stops floods early. */
  bodyLimitBytes: 16_384,
  /**
   * A burst is queued while the cores finish it within this time (100 checks at
   * bcrypt cost 12 on 2 cores take ~12 s); well inside the 30-60 s at which
   * gateways and browsers give up, so a login storm is answered, not shed.
   */
  hashQueueBudgetMs: 15_000,
  /**
   * Hashes arriving faster than they finish for this long is a standing
   * overload, not a burst: a burst of simultaneous requests reaches the queue
   * within a few hundred ms, a standing overload is shed after a second.
   */
  hashQueueIntervalMs: 1_000,
} as const;

/** One hash per core: bcrypt is pure CPU, so more at once only slows each one down. */
export function defaultHashConcurrency(): number {
  return availableParallelism();
}

/** pino's levels. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
