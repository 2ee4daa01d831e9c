import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CredentialFormatError,
  isForeignAlgorithm,
  parseKeycloakCredential,
  verifyForeignCredential,
} from '../../src/domain/credential-formats';
import type { KeycloakCredentialRepresentation } from '../../src/domain/credential-formats';
import type { Credential, CredentialAlgorithm } from '../../src/domain/store';

/** The shape of test/fixtures/credential-vectors.json, made by make-credential-vectors.py (Python's hashlib, argon2-cffi, pyca/bcrypt). */
interface StoredCredential {
  readonly algorithm: CredentialAlgorithm;
  readonly hash: string;
  readonly salt?: string;
  readonly parameters?: Record<string, string | number>;
  readonly createdAt: number;
}
interface Vectors {
  readonly vectors: readonly { name: string; password: string; alsoVerifies: string[]; credential: StoredCredential; expected: true }[];
  readonly keycloak: readonly { name: string; password: string; representation: KeycloakCredentialRepresentation; expected: StoredCredential }[];
}

const fixtures = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'credential-vectors.json'), 'utf8')) as Vectors;

function credentialOf(stored: StoredCredential): Credential {
  return { ...stored, createdAt: new Date(stored.createdAt) };
}

/** Two near misses of a password: one more character, and the first character's case or code point changed. */
function wrongPasswords(password: string): string[] {
  const first = password.charAt(0);
  const changed = first.toUpperCase() === first ? String.fromCharCode(first.charCodeAt(0) + 1) : first.toUpperCase();
  return [`${password}!`, `${changed}${password.slice(1)}`];
}

describe('verifyForeignCredential on vectors made by other implementations', () => {
  it('has a vector of every foreign algorithm, of non-ASCII passwords and of each bcrypt prefix', () => {
    const algorithms = new Set(fixtures.vectors.map((v) => v.credential.algorithm));
    expect([...algorithms].sort()).toEqual(['argon2', 'bcrypt', 'pbkdf2', 'pbkdf2-sha256', 'pbkdf2-sha512']);
    expect(fixtures.vectors.some((v) => /[^ -~]/.test(v.password))).toBe(true);
    const prefixes = fixtures.vectors.filter((v) => v.credential.algorithm === 'bcrypt').map((v) => v.credential.hash.slice(0, 4));
    expect(new Set(prefixes)).toEqual(new Set(['$2a$', '$2b$', '$2y$']));
    expect(fixtures.vectors.every((v) => isForeignAlgorithm(v.credential.algorithm))).toBe(true);
  });

  it.each(fixtures.vectors.map((v) => [v.name, v] as const))('%s: its password verifies, near misses do not', async (_name, vector) => {
    const credential = credentialOf(vector.credential);
    await expect(verifyForeignCredential(vector.password, credential)).resolves.toBe(vector.expected);
    for (const equivalent of vector.alsoVerifies) {
      await expect(verifyForeignCredential(equivalent, credential)).resolves.toBe(true);
    }
    for (const wrong of wrongPasswords(vector.password)) {
      await expect(verifyForeignCredential(wrong, credential)).resolves.toBe(false);
    }
  });

  const byName = (fragment: string): Credential => {
    const vector = fixtures.vectors.find((v) => v.name.startsWith(fragment));
    if (!vector) throw new Error(`no vector named ${fragment}…`);
    return credentialOf(vector.credential);
  };
  const passwordOf = (fragment: string): string => fixtures.vectors.find((v) => v.name.startsWith(fragment))?.password ?? '';

  it.each([
    ['pbkdf2-sha256, Keycloak <= 23', { iterations: 27499 }],
    ['pbkdf2 (HMAC-SHA1), Keycloak', { iterations: 20001 }],
    ['argon2id, Keycloak 26 defaults', { type: 'i' }],
    ['argon2id, Keycloak 26 defaults', { version: '1.0' }],
    ['argon2id, Keycloak 26 defaults', { memory: 7169 }],
    ['argon2id, Keycloak 26 defaults', { iterations: 4 }],
    ['argon2d, 2048 KiB', { parallelism: 2 }],
  ] as const)('uses every parameter: %s with %j no longer verifies its password', async (fragment, change) => {
    const credential = byName(fragment);
    const changed: Credential = { ...credential, parameters: { ...credential.parameters, ...change } };
    await expect(verifyForeignCredential(passwordOf(fragment), changed)).resolves.toBe(false);
  });

  it('uses the hash algorithm: a pbkdf2-sha256 credential read as pbkdf2-sha512 does not verify', async () => {
    const credential = byName('pbkdf2-sha256, Keycloak <= 23');
    await expect(verifyForeignCredential(passwordOf('pbkdf2-sha256, Keycloak <= 23'), { ...credential, algorithm: 'pbkdf2-sha512' })).resolves.toBe(false);
  });

  it('reads integer parameters written as strings, as Keycloak writes them', async () => {
    const credential = byName('argon2id, Keycloak 26 defaults');
    const asStrings: Credential = {
      ...credential,
      parameters: { ...credential.parameters, memory: '7168', iterations: '5', parallelism: '1', hashLength: '32' },
    };
    await expect(verifyForeignCredential(passwordOf('argon2id, Keycloak 26 defaults'), asStrings)).resolves.toBe(true);
  });
});

describe('verifyForeignCredential on malformed credentials', () => {
  const createdAt = new Date(0);
  const key32 = Buffer.alloc(32, 7).toString('base64');
  const salt16 = Buffer.alloc(16, 9).toString('base64');
  const pbkdf2 = (change: Partial<Credential>): Credential => ({ algorithm: 'pbkdf2-sha256', hash: key32, salt: salt16, parameters: { iterations: 1000 }, createdAt, ...change });
  const argon2Parameters = { iterations: 5, type: 'id', version: '1.3', memory: 7168, parallelism: 1, hashLength: 32 };
  const argon2 = (change: Record<string, string | number>, salt = salt16): Credential => ({
    algorithm: 'argon2',
    hash: key32,
    salt,
    parameters: { ...argon2Parameters, ...change },
    createdAt,
  });
  const bcryptTail = '10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';

  it.each<[string, Credential, string]>([
    ['an unknown algorithm', { algorithm: 'md5' as CredentialAlgorithm, hash: 'x', createdAt }, 'md5 credential: no verifier for this algorithm (supported: bcrypt, pbkdf2, pbkdf2-sha256, pbkdf2-sha512, argon2)'],
    ['our own scheme, which the hasher verifies', { algorithm: 'bcrypt-sha256', hash: `$2b$${bcryptTail}`, createdAt }, 'bcrypt-sha256 credential: no verifier for this algorithm'],
    ['an empty hash', pbkdf2({ hash: '' }), 'pbkdf2-sha256 credential: hash is missing'],
    ['the $2x$ bcrypt variant', { algorithm: 'bcrypt', hash: `$2x$${bcryptTail}`, createdAt }, 'bcrypt credential: the $2x$ bcrypt variant is not supported'],
    ['a bcrypt hash cut short', { algorithm: 'bcrypt', hash: `$2b$${bcryptTail.slice(0, -1)}`, createdAt }, 'bcrypt credential: hash is not a bcrypt hash'],
    ['a bcrypt cost under 4', { algorithm: 'bcrypt', hash: `$2b$03${bcryptTail.slice(2)}`, createdAt }, 'bcrypt credential: bcrypt cost must be from 04 to 31, got 03'],
    ['a pbkdf2 credential without salt', pbkdf2({ salt: undefined }), 'pbkdf2-sha256 credential: salt is missing'],
    ['a salt that is not base64', pbkdf2({ salt: 'not base64!' }), 'pbkdf2-sha256 credential: salt is not standard base64'],
    ['URL-safe base64', pbkdf2({ hash: key32.replace(/.$/, '_') }), 'pbkdf2-sha256 credential: hash is not standard base64'],
    ['a derived key of 3 bytes', pbkdf2({ hash: 'AAAA' }), 'pbkdf2-sha256 credential: hash decodes to 3 bytes; a derived key has at least 16'],
    ['no iteration count', pbkdf2({ parameters: {} }), 'pbkdf2-sha256 credential: parameters.iterations must be an integer from 1 to 2147483647, got nothing'],
    ['zero iterations', pbkdf2({ parameters: { iterations: 0 } }), 'got 0'],
    ['a fractional iteration count', pbkdf2({ parameters: { iterations: 1.5 } }), 'got 1.5'],
    ['an argon2 type that does not exist', argon2({ type: 'x' }), 'argon2 credential: parameters.type must be "id", "i" or "d", got "x"'],
    ['an argon2 version that does not exist', argon2({ version: '1.2' }), 'argon2 credential: parameters.version must be "1.3" or "1.0", got "1.2"'],
    ['a hashLength that is not the hash', argon2({ hashLength: 16 }), 'argon2 credential: parameters.hashLength is 16 but the hash decodes to 32 bytes'],
    ['absurd argon2 memory', argon2({ memory: 8 * 1024 * 1024 }), 'argon2 credential: parameters.memory must be an integer from 8 to 4194304, got 8388608'],
    ['argon2 memory under 8 KiB per lane', argon2({ memory: 8, parallelism: 2 }), 'parameters.memory must be an integer from 16 to'],
    ['an argon2 salt under 8 bytes', argon2({}, 'AAAA'), 'argon2 credential: salt decodes to 3 bytes; argon2 needs at least 8'],
  ])('throws a CredentialFormatError for %s, before hashing anything', async (_case, credential, message) => {
    const result = verifyForeignCredential('any password', credential);
    await expect(result).rejects.toBeInstanceOf(CredentialFormatError);
    await expect(result).rejects.toThrow(message);
  });
});

describe('parseKeycloakCredential', () => {
  it.each(fixtures.keycloak.map((v) => [v.name, v] as const))('maps the %s shape to our credential, which verifies', async (_name, vector) => {
    const credential = parseKeycloakCredential(vector.representation);
    expect(credential).toEqual(credentialOf(vector.expected));
    await expect(verifyForeignCredential(vector.password, credential)).resolves.toBe(true);
    await expect(verifyForeignCredential(`${vector.password}x`, credential)).resolves.toBe(false);
  });

  const argon2Vector = fixtures.keycloak.find((v) => v.expected.algorithm === 'argon2');
  const pbkdf2Vector = fixtures.keycloak.find((v) => v.expected.algorithm === 'pbkdf2-sha256');
  if (!argon2Vector || !pbkdf2Vector) throw new Error('credential-vectors.json lacks the Keycloak argon2 or pbkdf2-sha256 vector');
  const argon2Rep = argon2Vector.representation;
  const pbkdf2Rep = pbkdf2Vector.representation;
  const withData = (rep: KeycloakCredentialRepresentation, edit: (data: Record<string, unknown>) => void): KeycloakCredentialRepresentation => {
    const data = JSON.parse(rep.credentialData ?? '{}') as Record<string, unknown>;
    edit(data);
    return { ...rep, credentialData: JSON.stringify(data) };
  };

  it('reads argon2 parameters as lists of strings and keeps them as numbers and strings', () => {
    expect(parseKeycloakCredential(argon2Rep).parameters).toEqual({ iterations: 5, type: 'id', version: '1.3', memory: 7168, parallelism: 1, hashLength: 32 });
  });

  it('also reads the additional parameters under "algorithmData", the name of the JSON creator', async () => {
    const renamed = withData(argon2Rep, (data) => {
      data.algorithmData = data.additionalParameters;
      delete data.additionalParameters;
    });
    await expect(verifyForeignCredential(argon2Vector.password, parseKeycloakCredential(renamed))).resolves.toBe(true);
  });

  it('reads a bcrypt credential of the Keycloak bcrypt extensions', () => {
    const hash = '$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';
    const rep = { type: 'password', createdDate: 0, secretData: JSON.stringify({ value: hash, salt: '', additionalParameters: {} }), credentialData: JSON.stringify({ hashIterations: 10, algorithm: 'bcrypt', additionalParameters: {} }) };
    expect(parseKeycloakCredential(rep)).toEqual({ algorithm: 'bcrypt', hash, createdAt: new Date(0) });
  });

  it('dates a credential without createdDate now', () => {
    const rep = { ...pbkdf2Rep, createdDate: undefined };
    const before = Date.now();
    const createdAt = parseKeycloakCredential(rep).createdAt.getTime();
    expect(createdAt).toBeGreaterThanOrEqual(before);
    expect(createdAt).toBeLessThanOrEqual(Date.now());
  });

  it.each([
    ['an OTP credential', { ...pbkdf2Rep, type: 'otp' }, 'Keycloak credential: type "otp" is not a password credential'],
    ['no type', { ...pbkdf2Rep, type: undefined }, 'Keycloak credential: type null is not a password credential'],
    ['a plain-text value', { type: 'password', value: 'secret' }, 'Keycloak credential: has a plain-text "value" instead of a hashed "secretData"'],
    ['no secretData', { ...pbkdf2Rep, secretData: undefined }, 'Keycloak credential: secretData is missing (a JSON document inside a string)'],
    ['secretData that is not JSON', { ...pbkdf2Rep, secretData: '{value:' }, 'Keycloak credential: secretData is not JSON'],
    ['credentialData that is a list', { ...pbkdf2Rep, credentialData: '[]' }, 'Keycloak credential: credentialData is not a JSON object'],
    ['no value in secretData', { ...pbkdf2Rep, secretData: '{"salt":"AAAA"}' }, 'Keycloak credential: secretData.value is missing'],
    [
      'an algorithm of a custom provider',
      withData(pbkdf2Rep, (data) => (data.algorithm = 'sha1-legacy')),
      'Keycloak credential: credentialData.algorithm "sha1-legacy" is not supported (supported: argon2, pbkdf2, pbkdf2-sha256, pbkdf2-sha512, bcrypt)',
    ],
    ['no algorithm', withData(pbkdf2Rep, (data) => delete data.algorithm), 'Keycloak credential: credentialData.algorithm is missing'],
    ['no hashIterations', withData(pbkdf2Rep, (data) => delete data.hashIterations), 'Keycloak credential: credentialData.hashIterations must be an integer, got null'],
    ['zero hashIterations', withData(pbkdf2Rep, (data) => (data.hashIterations = 0)), 'Keycloak credential: pbkdf2-sha256 credential: parameters.iterations must be an integer from 1'],
    [
      'argon2 without memory',
      withData(argon2Rep, (data) => delete (data.additionalParameters as Record<string, unknown>).memory),
      'Keycloak credential: credentialData.additionalParameters.memory is missing',
    ],
    [
      'argon2 memory that is not a number',
      withData(argon2Rep, (data) => ((data.additionalParameters as Record<string, unknown>).memory = ['7k'])),
      'Keycloak credential: credentialData.additionalParameters.memory must be an integer, got "7k"',
    ],
    [
      'an argon2 type Keycloak does not have',
      withData(argon2Rep, (data) => ((data.additionalParameters as Record<string, unknown>).type = ['2id'])),
      'Keycloak credential: argon2 credential: parameters.type must be "id", "i" or "d", got "2id"',
    ],
    ['a salt that is not base64', { ...pbkdf2Rep, secretData: JSON.stringify({ value: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', salt: '%%%%' }) }, 'Keycloak credential: pbkdf2-sha256 credential: salt is not standard base64'],
    ['a createdDate that is not a number', { ...pbkdf2Rep, createdDate: '2024-01-01' as unknown as number }, 'Keycloak credential: createdDate must be milliseconds since the epoch, got "2024-01-01"'],
  ] as [string, KeycloakCredentialRepresentation, string][])('refuses %s with an error naming it', (_case, rep, message) => {
    expect(() => parseKeycloakCredential(rep)).toThrow(CredentialFormatError);
    expect(() => parseKeycloakCredential(rep)).toThrow(message);
  });
});
