import { createHmac } from 'node:crypto';
import bcrypt from 'bcrypt';
import { CredentialFormatError, verifyForeignCredential } from './credential-formats';
import type { Credential } from './store';

/** What a caller may pass along with a hash or a verification. */
export interface HashOptions {
  /**
   * Aborted when the caller no longer wants the answer (its client went away):
   * a hasher that queues work (`createHashQueue`) drops it before it runs.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Hashes new passwords and verifies presented ones against stored credentials.
 * Any scheme fits: the hash queue in front of it only measures how long each
 * operation takes.
 */
export interface PasswordHasher {
  hash(password: string, options?: HashOptions): Promise<Credential>;
  verify(password: string, credential: Credential, options?: HashOptions): Promise<boolean>;
  /** Whether a credential that just verified should be made again with `hash` (an older scheme, a lower cost). */
  needsRehash(credential: Credential): boolean;
}

/** Bounds of the bcrypt cost: under 10 is too cheap to guess against, over 15 lets each request eat seconds of CPU. */
export const BCRYPT_COST_RANGE = { min: 10, max: 15 } as const;

/** A bcrypt salt string: `$2b$` + two-digit cost + `$` + 22 salt characters. */
const SALT_LENGTH = 29;

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

/**
 * The shipped hasher, scheme `bcrypt-sha256`. Uses bcrypt's async API only, so
 * the work runs on libuv's threadpool and the event loop stays free.
 *
 * @example
 * const hasher = createBcryptHasher({ cost: 12 });
 * const credential = await hasher.hash('correct horse battery staple');
 * await hasher.verify('correct horse battery staple', credential); // true
 */
export function createBcryptHasher(options: { cost: number }): PasswordHasher {
  const { cost } = options;
  return {
    async hash(password) {
      const salt = await bcrypt.genSalt(cost);
      const hash = await bcrypt.hash(preHash(password, salt), salt);
      return { algorithm: 'bcrypt-sha256', hash, createdAt: new Date() };
    },
    /** @throws CredentialFormatError when the credential cannot be checked at all (bcrypt itself answers `false` for a corrupted hash). */
    async verify(password, credential) {
      // Credentials taken over from Keycloak or bcrypt exports; upgraded to ours on the next success (needsRehash).
      if (credential.algorithm !== 'bcrypt-sha256') return verifyForeignCredential(password, credential);
      if (typeof credential.hash !== 'string' || !OUR_BCRYPT_HASH.test(credential.hash)) {
        throw new CredentialFormatError('bcrypt-sha256 credential: hash is not a bcrypt hash ($2b$, a two-digit cost, 53 characters of salt and hash)');
      }
      const salt = credential.hash.slice(0, SALT_LENGTH);
      return bcrypt.compare(preHash(password, salt), credential.hash);
    },
    needsRehash(credential) {
      return credential.algorithm !== 'bcrypt-sha256' || bcrypt.getRounds(credential.hash) < cost;
    },
  };
}
