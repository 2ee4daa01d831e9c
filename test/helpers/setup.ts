import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/app';
import { createPasswordHasher } from '../../src/domain/hashing';
import type { HashScheme, PasswordHasher } from '../../src/domain/hashing';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources, PasswordResourcesOptions } from '../../src/index';
import { testDatabaseUri } from './db';
import { TestIssuer } from './issuer';

/** The lowest cost configuration allows, to keep the suite quick. */
export const TEST_BCRYPT_COST = 10;

/** bcrypt at the tests' cost, for realms and stores that hash with bcrypt. */
export const TEST_BCRYPT_SCHEME: HashScheme = { algorithm: 'bcrypt', iterations: TEST_BCRYPT_COST };

/** The service's default scheme (Keycloak's argon2id settings). */
export const DEFAULT_ARGON2_SCHEME: HashScheme = { algorithm: 'argon2', iterations: 5, memory: 7168, parallelism: 1 };

/**
 * A time budget and an overload interval long enough for every concurrent test
 * on a busy machine (a hash at the tests' cost can take most of a second
 * there): load shedding has its own tests.
 */
export const RELAXED_HASH_QUEUE = { budgetMs: 120_000, intervalMs: 60_000 } as const;

/** Brute force settings that stay out of the way of tests about other things. */
export const RELAXED_BRUTE_FORCE = { failureFactor: 1_000, quickLoginCheckMilliSeconds: 0 } as const;

/** Counts the real hasher's work, so tests can show that no password check ran. */
export interface HashCounts {
  verify: number;
  hash: number;
}

export function countingHasher(inner: PasswordHasher, counts: HashCounts): PasswordHasher {
  return {
    hash: (password, scheme) => {
      counts.hash += 1;
      return inner.hash(password, scheme);
    },
    verify: (password, credential) => {
      counts.verify += 1;
      return inner.verify(password, credential);
    },
    needsRehash: (credential, scheme) => inner.needsRehash(credential, scheme),
  };
}

export interface TestService {
  readonly issuer: TestIssuer;
  readonly resources: PasswordResources;
  /** The standalone app around the router. */
  readonly app: Express;
  readonly counts: HashCounts;
  readonly uri: string;
  /** A user with a known password in realm `alpha`. */
  createUser(username: string, password: string, realm?: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

/**
 * A real service for one test file: its own database on the run's server, a
 * test IdP serving a JWKS over HTTP, realms `alpha` and `beta`.
 */
export async function startTestService(
  label: string,
  overrides: Partial<PasswordResourcesOptions> = {},
  issuer?: TestIssuer,
): Promise<TestService> {
  const idp = issuer ?? (await TestIssuer.start());
  const counts: HashCounts = { verify: 0, hash: 0 };
  const uri = testDatabaseUri(label);
  const resources = createPasswordResources({
    mongodbUri: uri,
    // Lockout has its own tests; here it would turn one test's wrong passwords into another's 429.
    realms: {
      alpha: { issuer: idp.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE },
      beta: { issuer: idp.issuerOf('beta'), bruteForce: RELAXED_BRUTE_FORCE },
    },
    bcryptCost: TEST_BCRYPT_COST,
    hashQueue: RELAXED_HASH_QUEUE,
    hasher: countingHasher(createPasswordHasher(), counts),
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
  await resources.ready();
  const app = createApp(resources, pino({ level: 'silent' }));
  return {
    issuer: idp,
    resources,
    app,
    counts,
    uri,
    async createUser(username, password, realm = 'alpha') {
      const user = await resources.accounts.createUser({ realm, username, password });
      return { id: user.id, token: await idp.sign({ sub: user.id }, { realm }) };
    },
    async close() {
      await resources.close();
      if (!issuer) await idp.stop();
    },
  };
}
