import { createHmac, pbkdf2 as pbkdf2Callback, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as argon2 from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import { ARGON2_TYPES, ARGON2_VERSIONS, CredentialFormatError, verifyForeignCredential } from './credential-formats';
import type { Credential } from './store';

const pbkdf2 = promisify(pbkdf2Callback);

/** The algorithms a realm can store new passwords with: Keycloak's `hashAlgorithm(...)` names. */
export const HASH_ALGORITHMS = ['argon2', 'bcrypt', 'pbkdf2-sha512', 'pbkdf2-sha256', 'pbkdf2'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** How a realm stores new and changed passwords; a credential made otherwise is re-made on its next right password. */
export type HashScheme =
  | {
      readonly algorithm: 'argon2';
      /** Passes over memory (`t`); Keycloak's `hashIterations`. */
      readonly iterations: number;
      /** KiB (`m`). */
      readonly memory: number;
      /** Lanes (`p`). */
      readonly parallelism: number;
    }
  /** bcrypt-sha256; `iterations` is the cost (log2 of the rounds), as Keycloak's bcrypt extensions read `hashIterations`. */
  | { readonly algorithm: 'bcrypt'; readonly iterations: number }
  | { readonly algorithm: 'pbkdf2-sha512' | 'pbkdf2-sha256' | 'pbkdf2'; readonly iterations: number };

/**
 * Keycloak 26's defaults, per algorithm, for a policy without `hashIterations`
 * (read from its `Argon2Parameters` and `Pbkdf2*PasswordHashProviderFactory`):
 * argon2id v1.3, m = 7168 KiB, t = 5, p = 1, 32-byte hash, 16-byte salt;
 * PBKDF2 with a 512-bit key and a 16-byte salt at 210,000 (SHA-512),
 * 600,000 (SHA-256) and 1,300,000 (SHA-1) iterations. Keycloak has no bcrypt:
 * its absent `hashIterations` means `BCRYPT_COST` there.
 */
export const KEYCLOAK_HASH_DEFAULTS = {
  argon2: { iterations: 5, memory: 7168, parallelism: 1 },
  'pbkdf2-sha512': { iterations: 210_000 },
  'pbkdf2-sha256': { iterations: 600_000 },
  pbkdf2: { iterations: 1_300_000 },
} as const;

/** What a caller may pass along with a hash or a verification. */
export interface HashOptions {
  /**
   * Aborted when the caller no longer wants the answer (its client went away):
   * a hasher that queues work (`createHashQueue`) drops it before it runs.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Bounds of the bcrypt cost: under 10 is too cheap to guess against, over 15 lets each request eat seconds of CPU. */
export const BCRYPT_COST_RANGE = { min: 10, max: 15 } as const;

/**
 * Bounds of each setting, checked at start-up. argon2: Keycloak ignores
 * `hashIterations` over 100 for argon2 (it logs and uses 5), so we refuse it;
 * 7168 KiB is the least memory OWASP lists (with t = 5), 1 GiB per hash is
 * more than any login can afford, and lanes beyond 16 outnumber the cores.
 * PBKDF2: NIST SP 800-63B asks for at least 10,000 iterations; 10 million of
 * SHA-1 already take seconds of one core.
 */
export const HASH_SETTING_RANGES = {
  argon2Iterations: { min: 1, max: 100 },
  argon2Memory: { min: 7168, max: 1_048_576 },
  argon2Parallelism: { min: 1, max: 16 },
  bcryptCost: BCRYPT_COST_RANGE,
  pbkdf2Iterations: { min: 10_000, max: 10_000_000 },
} as const;

/** Hashes new passwords in a scheme and verifies presented ones against stored credentials of any scheme. */
export interface PasswordHasher {
  /** A credential for `password` made in `scheme`. */
  hash(password: string, scheme: HashScheme, options?: HashOptions): Promise<Credential>;
  /** Whether `password` is the credential's, whatever scheme made it. */
  verify(password: string, credential: Credential, options?: HashOptions): Promise<boolean>;
  /** Whether a credential that just verified should be made again with `hash` in `scheme` (another algorithm, other parameters). */
  needsRehash(credential: Credential, scheme: HashScheme): boolean;
}

/** A bcrypt salt string: `$2b$` + two-digit cost + `$` + 22 salt characters. */
const SALT_LENGTH = 29;
/** Keycloak's PBKDF2 key (512 bits) and salt (16 bytes), so that a realm moved back to Keycloak keeps its passwords. */
const PBKDF2_KEY_BYTES = 64;
const PBKDF2_SALT_BYTES = 16;
const PBKDF2_DIGESTS = { pbkdf2: 'sha1', 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512' } as const;
/** Keycloak's and the PHC string's defaults, fixed here: only memory, iterations and lanes are settings. */
const ARGON2_HASH_BYTES = 32;
/** Same bound as for Keycloak's argon2 credentials: a larger `m` is likelier a corrupt record than a setting, and each verify would allocate it. */
const MAX_ARGON2_MEMORY_KIB = 4 * 1024 * 1024;
const ARGON2_PHC = /^\$argon2(id|i|d)\$v=(16|19)\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{6,}$/;

/** What `hash` makes: `$2b$`, a two-digit cost, `$`, 53 characters of salt and hash. */
const OUR_BCRYPT_HASH = /^\$2b\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/**
 * NIST SP 800-63B 5.1.1.2: normalise with NFKC so the same password typed on
 * different devices (composed or decomposed accents) is the same secret.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * bcrypt reads at most 72 bytes and stops at a NUL. To refuse silent truncation
 * we hash base64(HMAC-SHA256(key = bcrypt salt, password)) instead: 44 ASCII
 * bytes without NUL for a password of any length. Keying the HMAC with the
 * per-user salt keeps a leaked plain SHA-256 of the password elsewhere from
 * being tested against our hashes ("bcrypt shucking").
 */
function preHash(password: string, salt: string): string {
  return createHmac('sha256', salt).update(normalizePassword(password), 'utf8').digest('base64');
}

/** Whether a credential is one of our argon2id PHC strings, rather than Keycloak's argon2 form (separate salt and parameters). */
function isPhc(credential: Credential): boolean {
  return credential.algorithm === 'argon2' && typeof credential.hash === 'string' && credential.hash.startsWith('$argon2');
}

/** The parameters of a PHC string, checked before any hashing. */
function phcParameters(hash: string): { type: string; version: number; memory: number; iterations: number; parallelism: number } {
  const match = ARGON2_PHC.exec(hash);
  if (!match) throw new CredentialFormatError('argon2 credential: hash is not a PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)');
  const [, type = '', version = '', m = '', t = '', p = ''] = match;
  const parameters = { type, version: Number(version), memory: Number(m), iterations: Number(t), parallelism: Number(p) };
  if (parameters.parallelism < 1 || parameters.iterations < 1 || parameters.memory < 8 * parameters.parallelism || parameters.memory > MAX_ARGON2_MEMORY_KIB) {
    throw new CredentialFormatError(`argon2 credential: m=${m},t=${t},p=${p} is outside what argon2 allows (m from 8p to ${MAX_ARGON2_MEMORY_KIB} KiB, t and p at least 1)`);
  }
  return parameters;
}

/**
 * The shipped hasher. New credentials: `argon2` as a PHC string
 * (`$argon2id$v=19$m=7168,t=5,p=1$salt$hash`, @node-rs/argon2), `bcrypt` as
 * `bcrypt-sha256` (below), PBKDF2 in Keycloak's own layout (base64 key and
 * salt, `parameters.iterations`). Each hashes the NFKC form of the password.
 * Verifies those and every format of `verifyForeignCredential` (plain bcrypt,
 * Keycloak's argon2 and PBKDF2). Every hash runs on libuv's threadpool
 * (bcrypt's and argon2's native async work, node:crypto's `pbkdf2`), so the
 * event loop stays free.
 *
 * @example
 * const hasher = createPasswordHasher();
 * const scheme = { algorithm: 'argon2', iterations: 5, memory: 7168, parallelism: 1 } as const;
 * const credential = await hasher.hash('correct horse battery staple', scheme);
 * await hasher.verify('correct horse battery staple', credential); // true
 * hasher.needsRehash(credential, { algorithm: 'bcrypt', iterations: 12 }); // true
 */
export function createPasswordHasher(): PasswordHasher {
  return { hash: hashIn, verify: verifyAny, needsRehash: isOutside };
}

/** A credential for `password` made in `scheme`. */
async function hashIn(password: string, scheme: HashScheme): Promise<Credential> {
  const createdAt = new Date();
  switch (scheme.algorithm) {
    case 'argon2': {
      const hash = await argon2.hash(normalizePassword(password), {
        algorithm: ARGON2_TYPES.id,
        version: ARGON2_VERSIONS['1.3'],
        memoryCost: scheme.memory,
        timeCost: scheme.iterations,
        parallelism: scheme.parallelism,
        outputLen: ARGON2_HASH_BYTES,
      });
      return { algorithm: 'argon2', hash, createdAt };
    }
    case 'bcrypt': {
      const salt = await bcrypt.genSalt(scheme.iterations);
      return { algorithm: 'bcrypt-sha256', hash: await bcrypt.hash(preHash(password, salt), salt), createdAt };
    }
    case 'pbkdf2':
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512': {
      const salt = randomBytes(PBKDF2_SALT_BYTES);
      const key = await pbkdf2(normalizePassword(password), salt, scheme.iterations, PBKDF2_KEY_BYTES, PBKDF2_DIGESTS[scheme.algorithm]);
      return { algorithm: scheme.algorithm, hash: key.toString('base64'), salt: salt.toString('base64'), parameters: { iterations: scheme.iterations }, createdAt };
    }
  }
}

/** @throws CredentialFormatError when the credential cannot be checked at all (bcrypt itself answers `false` for a corrupted hash). */
async function verifyAny(password: string, credential: Credential): Promise<boolean> {
  if (credential.algorithm === 'bcrypt-sha256') {
    if (typeof credential.hash !== 'string' || !OUR_BCRYPT_HASH.test(credential.hash)) {
      throw new CredentialFormatError('bcrypt-sha256 credential: hash is not a bcrypt hash ($2b$, a two-digit cost, 53 characters of salt and hash)');
    }
    const salt = credential.hash.slice(0, SALT_LENGTH);
    return bcrypt.compare(preHash(password, salt), credential.hash);
  }
  if (isPhc(credential)) {
    phcParameters(credential.hash);
    return argon2.verify(credential.hash, normalizePassword(password));
  }
  // PBKDF2 (ours share Keycloak's layout), Keycloak's argon2 and plain bcrypt.
  return verifyForeignCredential(password, credential);
}

/** Whether a credential is made otherwise than `scheme` says: another algorithm, other parameters, another layout. */
function isOutside(credential: Credential, scheme: HashScheme): boolean {
  switch (scheme.algorithm) {
    case 'argon2': {
      if (!isPhc(credential)) return true;
      const { type, version, memory, iterations, parallelism } = phcParameters(credential.hash);
      return type !== 'id' || version !== 19 || memory !== scheme.memory || iterations !== scheme.iterations || parallelism !== scheme.parallelism;
    }
    case 'bcrypt':
      return credential.algorithm !== 'bcrypt-sha256' || bcrypt.getRounds(credential.hash) !== scheme.iterations;
    case 'pbkdf2':
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512':
      return (
        credential.algorithm !== scheme.algorithm ||
        Number(credential.parameters?.iterations) !== scheme.iterations ||
        Buffer.from(credential.hash, 'base64').length !== PBKDF2_KEY_BYTES
      );
  }
}

/**
 * The first setting of a scheme outside `HASH_SETTING_RANGES`, named as
 * `names` says it was given (a policy term, an option, a variable), with what
 * is wrong; undefined when every setting is within range.
 */
export function hashSchemeProblem(
  scheme: HashScheme,
  names: { readonly iterations: string; readonly memory: string; readonly parallelism: string },
): { readonly setting: string; readonly problem: string } | undefined {
  const outside = (setting: string, value: number, range: { readonly min: number; readonly max: number }, why: string): { setting: string; problem: string } | undefined =>
    Number.isInteger(value) && value >= range.min && value <= range.max ? undefined : { setting, problem: `must be an integer from ${range.min} to ${range.max}${why}, got ${JSON.stringify(value)}` };
  switch (scheme.algorithm) {
    case 'argon2':
      return (
        outside(names.iterations, scheme.iterations, HASH_SETTING_RANGES.argon2Iterations, ' for argon2 (passes over memory; Keycloak ignores more than 100)') ??
        outside(names.memory, scheme.memory, HASH_SETTING_RANGES.argon2Memory, ' (KiB)') ??
        outside(names.parallelism, scheme.parallelism, HASH_SETTING_RANGES.argon2Parallelism, '')
      );
    case 'bcrypt':
      return outside(names.iterations, scheme.iterations, HASH_SETTING_RANGES.bcryptCost, ' for bcrypt (the cost)');
    case 'pbkdf2':
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512':
      return outside(names.iterations, scheme.iterations, HASH_SETTING_RANGES.pbkdf2Iterations, ` for ${scheme.algorithm}`);
  }
}

/** How a scheme reads in logs and the README: `argon2id m=7168 t=5 p=1`, `bcrypt-sha256 cost 12`, `pbkdf2-sha512 210000`. */
export function describeHashScheme(scheme: HashScheme): string {
  switch (scheme.algorithm) {
    case 'argon2':
      return `argon2id m=${scheme.memory} t=${scheme.iterations} p=${scheme.parallelism}`;
    case 'bcrypt':
      return `bcrypt-sha256 cost ${scheme.iterations}`;
    case 'pbkdf2':
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512':
      return `${scheme.algorithm} ${scheme.iterations}`;
  }
}
