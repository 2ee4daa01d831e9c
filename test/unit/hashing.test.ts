import { createHmac, pbkdf2Sync } from 'node:crypto';
import * as argon2 from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import { CredentialFormatError } from '../../src/domain/credential-formats';
import { createPasswordHasher, describeHashScheme, hashSchemeProblem, normalizePassword } from '../../src/domain/hashing';
import type { HashScheme } from '../../src/domain/hashing';
import type { Credential } from '../../src/domain/store';

const hasher = createPasswordHasher();
const BCRYPT: HashScheme = { algorithm: 'bcrypt', iterations: 10 };
const ARGON2: HashScheme = { algorithm: 'argon2', iterations: 5, memory: 7168, parallelism: 1 };
/** The least iterations the settings allow, to keep the suite quick; the format is the same at any count. */
const PBKDF2_SHA512: HashScheme = { algorithm: 'pbkdf2-sha512', iterations: 10_000 };
const PBKDF2_SHA256: HashScheme = { algorithm: 'pbkdf2-sha256', iterations: 10_000 };
const PBKDF2_SHA1: HashScheme = { algorithm: 'pbkdf2', iterations: 10_000 };
const SCHEMES = [BCRYPT, ARGON2, PBKDF2_SHA512, PBKDF2_SHA256, PBKDF2_SHA1];

describe('every hash scheme', () => {
  it.each(SCHEMES.map((scheme) => [describeHashScheme(scheme), scheme] as const))('%s: the right password verifies, a wrong one does not, and the hash holds no password', async (_name, scheme) => {
    const credential = await hasher.hash('correct horse battery staple', scheme);
    expect(JSON.stringify(credential)).not.toContain('horse');
    await expect(hasher.verify('correct horse battery staple', credential)).resolves.toBe(true);
    await expect(hasher.verify('correct horse battery stapl', credential)).resolves.toBe(false);
    expect(hasher.needsRehash(credential, scheme)).toBe(false);
  });

  it.each(SCHEMES.map((scheme) => [describeHashScheme(scheme), scheme] as const))('%s: composed and decomposed forms of a password are the same (NFKC)', async (_name, scheme) => {
    const credential = await hasher.hash('cafe\u0301 au lait', scheme);
    await expect(hasher.verify('caf\u00e9 au lait', credential)).resolves.toBe(true);
  });

  it.each(SCHEMES.map((scheme) => [describeHashScheme(scheme), scheme] as const))('%s: each hash has its own salt', async (_name, scheme) => {
    const one = await hasher.hash('same password', scheme);
    const two = await hasher.hash('same password', scheme);
    expect(one.hash).not.toBe(two.hash);
  });
});

describe('argon2id', () => {
  it("stores a PHC string with the realm's parameters, Keycloak's hash and salt lengths", async () => {
    const credential = await hasher.hash('correct horse battery staple', { algorithm: 'argon2', iterations: 3, memory: 8192, parallelism: 2 });
    expect(credential.algorithm).toBe('argon2');
    expect(credential.salt).toBeUndefined();
    expect(credential.hash).toMatch(/^\$argon2id\$v=19\$m=8192,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(argon2.parseOptions(credential.hash)).toMatchObject({ memoryCost: 8192, timeCost: 3, parallelism: 2, outputLen: 32, saltLen: 16 });
  });

  it('verifies a PHC string made by another argon2 implementation from the NFKC password', async () => {
    const hash = await argon2.hash('caf\u00e9', { memoryCost: 7168, timeCost: 5, parallelism: 1 });
    await expect(hasher.verify('cafe\u0301', { algorithm: 'argon2', hash, createdAt: new Date() })).resolves.toBe(true);
  });

  it.each([
    ['not a PHC string', '$argon2id$nonsense'],
    ['memory beyond 4 GiB', '$argon2id$v=19$m=5000000,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'],
  ])('refuses a stored argon2 credential that is %s as a format error, not a wrong password', async (_name, hash) => {
    await expect(hasher.verify('x', { algorithm: 'argon2', hash, createdAt: new Date() })).rejects.toBeInstanceOf(CredentialFormatError);
  });
});

describe('bcrypt-sha256', () => {
  it('stores the scheme, a bcrypt hash of the configured cost, never the password', async () => {
    const credential = await hasher.hash('correct horse battery staple', BCRYPT);
    expect(credential.algorithm).toBe('bcrypt-sha256');
    expect(credential.hash).toMatch(/^\$2b\$10\$[./A-Za-z0-9]{53}$/);
  });

  it('does not truncate at 72 bytes: passwords sharing their first 72 bytes differ', async () => {
    const prefix = 'x'.repeat(72);
    const credential = await hasher.hash(`${prefix}-one`, BCRYPT);
    await expect(hasher.verify(`${prefix}-two`, credential)).resolves.toBe(false);
    await expect(hasher.verify(`${prefix}-one`, credential)).resolves.toBe(true);
  });

  it('does not stop at a NUL character', async () => {
    const credential = await hasher.hash('abc\u0000def', BCRYPT);
    await expect(hasher.verify('abc\u0000xyz', credential)).resolves.toBe(false);
  });

  it('matches the construction it documents: bcrypt over base64(HMAC-SHA256(salt, NFKC(password)))', async () => {
    const credential = await hasher.hash('caf\u00e9', BCRYPT);
    const salt = credential.hash.slice(0, 29);
    const preHash = createHmac('sha256', salt).update('caf\u00e9', 'utf8').digest('base64');
    await expect(bcrypt.compare(preHash, credential.hash)).resolves.toBe(true);
    expect(normalizePassword('cafe\u0301')).toBe('caf\u00e9');
  });
});

describe('PBKDF2', () => {
  it.each([
    [PBKDF2_SHA512, 'sha512'],
    [PBKDF2_SHA256, 'sha256'],
    [PBKDF2_SHA1, 'sha1'],
  ] as const)("stores %o in Keycloak's layout: a 512-bit key and a 16-byte salt in base64, the iterations", async (scheme, digest) => {
    const credential = await hasher.hash('correct horse battery staple', scheme);
    expect(credential).toMatchObject({ algorithm: scheme.algorithm, parameters: { iterations: 10_000 } });
    const salt = Buffer.from(credential.salt ?? '', 'base64');
    expect(salt).toHaveLength(16);
    expect(credential.hash).toBe(pbkdf2Sync('correct horse battery staple', salt, 10_000, 64, digest).toString('base64'));
  });
});

describe('needsRehash: a credential that verified is re-made when it is not in the realm scheme', () => {
  let made: Record<string, Credential>;
  beforeAll(async () => {
    made = {
      bcrypt10: await hasher.hash('p', BCRYPT),
      argon2: await hasher.hash('p', ARGON2),
      sha512: await hasher.hash('p', PBKDF2_SHA512),
    };
  });

  it.each([
    ['bcrypt10', ARGON2, true],
    ['bcrypt10', { algorithm: 'bcrypt', iterations: 11 }, true],
    ['bcrypt10', { algorithm: 'bcrypt', iterations: 10 }, false],
    ['argon2', BCRYPT, true],
    ['argon2', { ...ARGON2, iterations: 4 }, true],
    ['argon2', { ...ARGON2, memory: 19456 }, true],
    ['argon2', { ...ARGON2, parallelism: 2 }, true],
    ['argon2', ARGON2, false],
    ['sha512', { algorithm: 'pbkdf2-sha512', iterations: 210_000 }, true],
    ['sha512', PBKDF2_SHA256, true],
    ['sha512', PBKDF2_SHA512, false],
  ] as const)('%s under %o: %s', (name, scheme, expected) => {
    expect(hasher.needsRehash(made[name] as Credential, scheme)).toBe(expected);
  });

  it("always re-makes Keycloak's argon2 layout as a PHC string, even at the same parameters", () => {
    const keycloak: Credential = {
      algorithm: 'argon2',
      hash: 'x'.repeat(43) + '=',
      salt: 'c2FsdHNhbHRzYWx0c2FsdA==',
      parameters: { iterations: 5, type: 'id', version: '1.3', memory: 7168, parallelism: 1, hashLength: 32 },
      createdAt: new Date(),
    };
    expect(hasher.needsRehash(keycloak, ARGON2)).toBe(true);
  });
});

describe('hashSchemeProblem', () => {
  const names = { iterations: 'hashIterations', memory: 'argon2.memory', parallelism: 'argon2.parallelism' };
  it.each([
    [{ ...ARGON2, iterations: 101 }, 'hashIterations', 'must be an integer from 1 to 100 for argon2 (passes over memory; Keycloak ignores more than 100), got 101'],
    [{ ...ARGON2, memory: 4096 }, 'argon2.memory', 'must be an integer from 7168 to 1048576 (KiB), got 4096'],
    [{ ...ARGON2, parallelism: 0 }, 'argon2.parallelism', 'must be an integer from 1 to 16, got 0'],
    [{ algorithm: 'bcrypt', iterations: 27_500 }, 'hashIterations', 'must be an integer from 10 to 15 for bcrypt (the cost), got 27500'],
    [{ algorithm: 'pbkdf2-sha256', iterations: 1000 }, 'hashIterations', 'must be an integer from 10000 to 10000000 for pbkdf2-sha256, got 1000'],
  ] as const)('refuses %o naming %s', (scheme, setting, problem) => {
    expect(hashSchemeProblem(scheme, names)).toEqual({ setting, problem });
  });

  it.each(SCHEMES)('accepts %o', (scheme) => {
    expect(hashSchemeProblem(scheme, names)).toBeUndefined();
  });
});
