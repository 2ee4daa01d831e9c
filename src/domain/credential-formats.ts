/**
 * Credentials in other systems' formats, kept as they were until the user's
 * next successful password check re-makes them in the realm's scheme: plain
 * bcrypt (`$2a$`/`$2b$`/`$2y$`, as Auth0 and many apps export), and Keycloak's
 * `pbkdf2` (HMAC-SHA1), `pbkdf2-sha256`, `pbkdf2-sha512` and `argon2`. A realm
 * whose `hashAlgorithm` is a PBKDF2 stores its own credentials in Keycloak's
 * PBKDF2 layout too, so they are verified here.
 *
 * Every hash runs off the event loop: bcrypt's and argon2's native async APIs
 * and node:crypto's async `pbkdf2` all work on libuv's threadpool.
 */
import { pbkdf2 as pbkdf2Callback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import * as argon2 from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import type { Credential, CredentialAlgorithm } from './store';

const pbkdf2 = promisify(pbkdf2Callback);

/** The schemes this module verifies: every one but our own `bcrypt-sha256`. */
export type ForeignCredentialAlgorithm = Exclude<CredentialAlgorithm, 'bcrypt-sha256'>;

export const FOREIGN_ALGORITHMS: readonly ForeignCredentialAlgorithm[] = ['bcrypt', 'pbkdf2', 'pbkdf2-sha256', 'pbkdf2-sha512', 'argon2'];

/** Whether `verifyForeignCredential` is the verifier for credentials of this algorithm. */
export function isForeignAlgorithm(algorithm: string): algorithm is ForeignCredentialAlgorithm {
  return (FOREIGN_ALGORITHMS as readonly string[]).includes(algorithm);
}

/**
 * A stored or exported credential that cannot be verified as it is: an unknown
 * algorithm, a missing or malformed field. A data problem, not a wrong
 * password; the message names the field and what is wrong with it.
 */
export class CredentialFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialFormatError';
  }
}

/**
 * Whether `password` is the password of a credential made by another system.
 * A well-formed credential and a wrong password give `false`.
 *
 * Normalisation: Keycloak, Auth0 and bcrypt libraries hash the password's
 * UTF-8 bytes exactly as typed, while we compare after NFKC (NIST SP
 * 800-63B). So the password is tried as given first, which is what the other
 * system hashed; when that fails and its NFKC form differs, the NFKC form is
 * tried too, so that a password typed decomposed (`e` + U+0301) still matches
 * one hashed composed. The second try only accepts strings NFKC-equal to the
 * password, the equivalence our own scheme uses for every password anyway.
 *
 * @throws CredentialFormatError when the credential is not one this module
 *   can verify (unknown algorithm, missing or malformed hash, salt or parameter).
 *
 * @example
 * await verifyForeignCredential('secret', { algorithm: 'bcrypt', hash: '$2y$10$…', createdAt: new Date() });
 */
export async function verifyForeignCredential(password: string, credential: Credential): Promise<boolean> {
  const scheme = checkCredential(credential);
  if (await matches(password, scheme)) return true;
  const normalized = password.normalize('NFKC');
  return normalized !== password && matches(normalized, scheme);
}

type Scheme =
  | { readonly kind: 'bcrypt'; readonly hash: string }
  | { readonly kind: 'pbkdf2'; readonly digest: 'sha1' | 'sha256' | 'sha512'; readonly iterations: number; readonly salt: Buffer; readonly key: Buffer }
  | {
      readonly kind: 'argon2';
      readonly options: Readonly<argon2.Options> & { readonly salt: Buffer };
      readonly key: Buffer;
    };

async function matches(password: string, scheme: Scheme): Promise<boolean> {
  switch (scheme.kind) {
    case 'bcrypt':
      // bcrypt.compare compares in constant time itself.
      return bcrypt.compare(password, scheme.hash);
    case 'pbkdf2': {
      // Java's PBEKeySpec hashes the password's UTF-8 bytes, as Node does with a string.
      const derived = await pbkdf2(password, scheme.salt, scheme.iterations, scheme.key.length, scheme.digest);
      return timingSafeEqual(derived, scheme.key);
    }
    case 'argon2': {
      // Keycloak's Bouncy Castle generator turns the password into UTF-8 bytes (its default converter).
      const derived = await argon2.hashRaw(Buffer.from(password, 'utf8'), { ...scheme.options });
      return derived.length === scheme.key.length && timingSafeEqual(derived, scheme.key);
    }
  }
}

const PBKDF2_DIGESTS = { pbkdf2: 'sha1', 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512' } as const;
/**
 * @node-rs/argon2's `Algorithm` and `Version` by Keycloak's names. Its enums are
 * ambient `const` enums, absent at run time and not readable under
 * `isolatedModules`, so their documented values are written out here.
 */
/* eslint-disable @typescript-eslint/no-unsafe-enum-assignment */
export const ARGON2_TYPES = { d: 0 as argon2.Algorithm, i: 1 as argon2.Algorithm, id: 2 as argon2.Algorithm } as const;
export const ARGON2_VERSIONS = { '1.0': 0 as argon2.Version, '1.3': 1 as argon2.Version } as const;
/* eslint-enable @typescript-eslint/no-unsafe-enum-assignment */

/** Java's `int`, the type of Keycloak's `hashIterations`: any count Keycloak can have written. */
const MAX_INT32 = 2 ** 31 - 1;
/**
 * The most memory (KiB, 4 GiB) an argon2 credential may ask for. Argon2 allows
 * more, but a larger value is far likelier a corrupt record than a setting
 * anyone chose, and each verify would allocate it.
 */
const MAX_ARGON2_MEMORY_KIB = 4 * 1024 * 1024;
/** A shorter derived key is no setting Keycloak has, and more likely a truncated value. */
const MIN_KEY_BYTES = 16;

/** bcrypt's modular crypt format: variant, two-digit cost, 22 salt and 31 hash characters. */
const BCRYPT_HASH = /^\$(2[abxy]?)\$(\d\d)\$[./A-Za-z0-9]{53}$/;
/** Standard base64 with padding, as Keycloak and Java's encoder write it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Check every field before any hashing; the result is what `matches` needs. */
function checkCredential(credential: Credential): Scheme {
  const algorithm: string = credential.algorithm;
  const fail = (problem: string): never => {
    throw new CredentialFormatError(`${algorithm} credential: ${problem}`);
  };
  if (typeof credential.hash !== 'string' || credential.hash === '') fail('hash is missing');

  switch (algorithm) {
    case 'bcrypt': {
      const match = BCRYPT_HASH.exec(credential.hash);
      if (!match) return fail('hash is not a bcrypt hash ($2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and hash)');
      const [, variant = '', cost = ''] = match;
      if (variant !== '2a' && variant !== '2b' && variant !== '2y') {
        return fail(`the $${variant}$ bcrypt variant is not supported (only $2a$, $2b$ and $2y$); the user must reset the password`);
      }
      if (Number(cost) < 4 || Number(cost) > 31) return fail(`bcrypt cost must be from 04 to 31, got ${cost}`);
      // $2y$ (PHP's crypt_blowfish) is the same algorithm as $2b$; node's bcrypt only knows the latter two names.
      return { kind: 'bcrypt', hash: variant === '2y' ? `$2b$${credential.hash.slice(4)}` : credential.hash };
    }
    case 'pbkdf2':
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512': {
      const key = decodeBase64(credential.hash, 'hash', fail);
      // Keycloak takes the derived key's length from the stored value; so do we.
      if (key.length < MIN_KEY_BYTES) fail(`hash decodes to ${key.length} bytes; a derived key has at least ${MIN_KEY_BYTES}`);
      return {
        kind: 'pbkdf2',
        digest: PBKDF2_DIGESTS[algorithm],
        iterations: integerParameter(credential, 'iterations', 1, MAX_INT32, fail),
        salt: decodeBase64(credential.salt, 'salt', fail),
        key,
      };
    }
    case 'argon2': {
      const key = decodeBase64(credential.hash, 'hash', fail);
      const salt = decodeBase64(credential.salt, 'salt', fail);
      if (salt.length < 8) fail(`salt decodes to ${salt.length} bytes; argon2 needs at least 8`);
      const type = credential.parameters?.type;
      if (type !== 'id' && type !== 'i' && type !== 'd') fail(`parameters.type must be "id", "i" or "d", got ${JSON.stringify(type)}`);
      const version = credential.parameters?.version;
      if (version !== '1.3' && version !== '1.0') fail(`parameters.version must be "1.3" or "1.0", got ${JSON.stringify(version)}`);
      const parallelism = integerParameter(credential, 'parallelism', 1, 255, fail);
      const hashLength = integerParameter(credential, 'hashLength', 4, MAX_INT32, fail);
      if (hashLength !== key.length) fail(`parameters.hashLength is ${hashLength} but the hash decodes to ${key.length} bytes`);
      return {
        kind: 'argon2',
        options: {
          salt,
          algorithm: ARGON2_TYPES[type as keyof typeof ARGON2_TYPES],
          version: ARGON2_VERSIONS[version as keyof typeof ARGON2_VERSIONS],
          memoryCost: integerParameter(credential, 'memory', 8 * parallelism, MAX_ARGON2_MEMORY_KIB, fail),
          timeCost: integerParameter(credential, 'iterations', 1, 2 ** 32 - 1, fail),
          parallelism,
          outputLen: hashLength,
        },
        key,
      };
    }
    default:
      return fail(`no verifier for this algorithm (supported: ${FOREIGN_ALGORITHMS.join(', ')})`);
  }
}

function decodeBase64(value: unknown, field: string, fail: (problem: string) => never): Buffer {
  if (typeof value !== 'string' || value === '') return fail(`${field} is missing`);
  if (value.length % 4 !== 0 || !BASE64.test(value)) return fail(`${field} is not standard base64 (A-Z, a-z, 0-9, +, / and = padding)`);
  return Buffer.from(value, 'base64');
}

/** An integer parameter, given as a number or as a string of digits (Keycloak writes strings). */
function integerParameter(credential: Credential, name: string, min: number, max: number, fail: (problem: string) => never): number {
  const raw = credential.parameters?.[name];
  const value = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return fail(`parameters.${name} must be an integer from ${min} to ${max}, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * A password credential of a Keycloak realm export (`kc.sh export`), or of the
 * admin API's `CredentialRepresentation`: `secretData` and `credentialData`
 * are JSON documents inside strings.
 */
export interface KeycloakCredentialRepresentation {
  readonly type?: string;
  /** `{"value": base64 derived key, "salt": base64, "additionalParameters": {}}` */
  readonly secretData?: string;
  /**
   * `{"hashIterations": n, "algorithm": "pbkdf2-sha256", "additionalParameters": {}}`; for
   * argon2 the additional parameters are lists of strings:
   * `{"hashLength": ["32"], "memory": ["7168"], "type": ["id"], "version": ["1.3"], "parallelism": ["1"]}`.
   */
  readonly credentialData?: string;
  /** Milliseconds since the epoch. */
  readonly createdDate?: number;
  /** For the caller: a temporary password means the `UPDATE_PASSWORD` required action. */
  readonly temporary?: boolean;
  /** A plain-text password, as hand-written import files have; never in an export. */
  readonly value?: string;
}

/**
 * Our `Credential` for a Keycloak password credential, in Keycloak's own
 * format: `hash` is `secretData.value`, `salt` is `secretData.salt`, and the
 * parameters are `iterations` (`credentialData.hashIterations`) and, for argon2,
 * `type`, `version`, `memory`, `parallelism`, `hashLength`. `createdAt` is
 * `createdDate`, or now when the representation has none.
 *
 * Also accepted: `algorithm: "bcrypt"` with a `$2a$…` value, as the common
 * Keycloak bcrypt extensions store it.
 *
 * @throws CredentialFormatError naming what is unsupported or malformed, e.g.
 *   `Keycloak credential: credentialData.algorithm "sha1-legacy" is not supported (...)`.
 *
 * @example
 * parseKeycloakCredential(user.credentials[0]);
 * // { algorithm: 'pbkdf2-sha256', hash: '…', salt: '…', parameters: { iterations: 27500 }, createdAt: … }
 */
export function parseKeycloakCredential(representation: KeycloakCredentialRepresentation): Credential {
  const fail = (problem: string): never => {
    throw new CredentialFormatError(`Keycloak credential: ${problem}`);
  };
  if (representation.type !== 'password') fail(`type ${JSON.stringify(representation.type ?? null)} is not a password credential`);
  if (representation.secretData === undefined && typeof representation.value === 'string') {
    fail('has a plain-text "value" instead of a hashed "secretData"; set the password with set-password instead');
  }
  const secret = jsonObject(representation.secretData, 'secretData', fail);
  const data = jsonObject(representation.credentialData, 'credentialData', fail);

  const algorithm = data.algorithm;
  if (typeof algorithm !== 'string' || algorithm === '') return fail('credentialData.algorithm is missing');
  const iterations = data.hashIterations;
  if (typeof iterations !== 'number' || !Number.isInteger(iterations)) {
    return fail(`credentialData.hashIterations must be an integer, got ${JSON.stringify(iterations ?? null)}`);
  }
  if (typeof secret.value !== 'string') return fail('secretData.value is missing');
  const salt = typeof secret.salt === 'string' ? secret.salt : undefined;

  const createdAt = createdAtOf(representation.createdDate, fail);

  let credential: Credential;
  switch (algorithm) {
    case 'pbkdf2':
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512':
      credential = { algorithm, hash: secret.value, salt, parameters: { iterations }, createdAt };
      break;
    case 'argon2':
      credential = { algorithm, hash: secret.value, salt, parameters: argon2Parameters(data, iterations, fail), createdAt };
      break;
    case 'bcrypt':
      credential = { algorithm, hash: secret.value, createdAt };
      break;
    default:
      return fail(`credentialData.algorithm ${JSON.stringify(algorithm)} is not supported (supported: argon2, pbkdf2, pbkdf2-sha256, pbkdf2-sha512, bcrypt)`);
  }
  try {
    checkCredential(credential);
  } catch (error) {
    if (error instanceof CredentialFormatError) fail(error.message);
    throw error;
  }
  return credential;
}

function jsonObject(text: unknown, field: string, fail: (problem: string) => never): Readonly<Record<string, unknown>> {
  if (typeof text !== 'string') return fail(`${field} is missing (a JSON document inside a string)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(`${field} is not JSON`);
  }
  if (!isRecord(parsed)) return fail(`${field} is not a JSON object`);
  return parsed;
}

/** When the credential was made: Keycloak's `createdDate` (ms since the epoch), or now when it has none. */
function createdAtOf(createdDate: unknown, fail: (problem: string) => never): Date {
  if (createdDate === undefined) return new Date();
  if (typeof createdDate !== 'number' || !Number.isFinite(createdDate)) {
    return fail(`createdDate must be milliseconds since the epoch, got ${JSON.stringify(createdDate)}`);
  }
  return new Date(createdDate);
}

/** argon2's parameters from Keycloak's `credentialData`. */
function argon2Parameters(data: Readonly<Record<string, unknown>>, iterations: number, fail: (problem: string) => never): NonNullable<Credential['parameters']> {
  // Jackson reads the creator's "algorithmData" too; Keycloak writes "additionalParameters".
  const extra = data.additionalParameters ?? data.algorithmData;
  const parameter = (name: string): string => argon2Parameter(extra, name, fail);
  const integer = (name: string): number => {
    const text = parameter(name);
    if (!/^\d{1,10}$/.test(text)) return fail(`credentialData.additionalParameters.${name} must be an integer, got ${JSON.stringify(text)}`);
    return Number(text);
  };
  return {
    iterations,
    type: parameter('type'),
    version: parameter('version'),
    memory: integer('memory'),
    parallelism: integer('parallelism'),
    hashLength: integer('hashLength'),
  };
}

/** Keycloak writes each argon2 parameter as a one-element list of strings (a MultivaluedHashMap). */
function argon2Parameter(extra: unknown, name: string, fail: (problem: string) => never): string {
  const value = isRecord(extra) ? extra[name] : undefined;
  const first: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof first === 'string' && first !== '') return first;
  if (typeof first === 'number') return String(first);
  return fail(`credentialData.additionalParameters.${name} is missing (argon2 needs hashLength, memory, type, version and parallelism)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
