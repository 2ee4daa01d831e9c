import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { createPasswordResources, OptionsError } from '../../src/index';
import type { Credential } from '../../src/domain/store';
import { createMongooseUserStore } from '../../src/store/mongoose/user-store';
import { call } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const RESET = '/realms/alpha/password-resources/reset-password';

/** Credentials Keycloak's formats made (test/fixtures/make-credential-vectors.py), with their passwords. */
interface Vector {
  readonly name: string;
  readonly password: string;
  readonly credential: Omit<Credential, 'createdAt'> & { readonly createdAt: number };
}
const VECTORS = (JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'credential-vectors.json'), 'utf8')) as { vectors: Vector[] }).vectors;
const KEYCLOAK_ARGON2 = VECTORS.find((v) => v.name.startsWith('argon2id, Keycloak 26 defaults'));
const KEYCLOAK_SHA512 = VECTORS.find((v) => v.name.startsWith('pbkdf2-sha512, 30000'));
const KEYCLOAK_SHA256 = VECTORS.find((v) => v.name.startsWith('pbkdf2-sha256, Keycloak <= 23'));
const KEYCLOAK_SHA1 = VECTORS.find((v) => v.name.startsWith("pbkdf2 (HMAC-SHA1), Keycloak's 20000"));

let issuer: TestIssuer;
const opened: TestService[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await Promise.all(opened.map((service) => service.close()));
  await issuer.stop();
});

/** A service whose realm `alpha` has this policy, on database `label` (shared by services given the same label). */
async function serviceWith(label: string, passwordPolicy: string, uri?: string): Promise<TestService> {
  const service = await startTestService(label, { ...(uri === undefined ? {} : { mongodbUri: uri }), realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE, passwordPolicy } } }, issuer);
  opened.push(service);
  return service;
}

async function credentialOf(service: TestService, username: string): Promise<Credential | undefined> {
  return (await service.resources.accounts.findByUsername('alpha', username))?.credential;
}

async function insertUser(uri: string, id: string, username: string, credential: Credential): Promise<void> {
  const connection = mongoose.createConnection(uri);
  try {
    await createMongooseUserStore(connection).create({ realm: 'alpha', id, username, enabled: true, credential, requiredActions: [] });
  } finally {
    await connection.close();
  }
}

describe("each of Keycloak's hashAlgorithm values", () => {
  it.each([
    ['hashAlgorithm(argon2)', 'argon2', /^\$argon2id\$v=19\$m=7168,t=5,p=1\$/],
    ['hashAlgorithm(argon2) and hashIterations(2)', 'argon2', /^\$argon2id\$v=19\$m=7168,t=2,p=1\$/],
    ['hashAlgorithm(bcrypt) and hashIterations(10)', 'bcrypt-sha256', /^\$2b\$10\$/],
    ['hashAlgorithm(pbkdf2-sha512) and hashIterations(10000)', 'pbkdf2-sha512', /^[A-Za-z0-9+/]{86}==$/],
    ['hashAlgorithm(pbkdf2-sha256) and hashIterations(10000)', 'pbkdf2-sha256', /^[A-Za-z0-9+/]{86}==$/],
    ['hashAlgorithm(pbkdf2) and hashIterations(10000)', 'pbkdf2', /^[A-Za-z0-9+/]{86}==$/],
  ])('%s: a new user and a changed password are stored with it, and both check', async (policy, algorithm, hash) => {
    const service = await serviceWith(`scheme-${algorithm}-${policy.length}`, `length(8) and ${policy}`);
    const { token } = await service.createUser('ursula', 'ursula first password');
    expect(await credentialOf(service, 'ursula')).toMatchObject({ algorithm, hash: expect.stringMatching(hash) as unknown });
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: 'ursula first password' } })).body).toEqual({ valid: true });
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: 'ursula first passwore' } })).body).toEqual({ valid: false });

    const reset = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'ursula first password', newPassword: 'ursula second password' } });
    expect(reset.status).toBe(204);
    expect(await credentialOf(service, 'ursula')).toMatchObject({ algorithm, hash: expect.stringMatching(hash) as unknown });
    const fresh = await issuer.signAfterChange((await service.resources.accounts.findByUsername('alpha', 'ursula'))?.id ?? '');
    expect((await call(service.app, 'post', VALIDATE, { token: fresh, body: { password: 'ursula second password' } })).body).toEqual({ valid: true });
  });
});

describe('a change of the realm policy', () => {
  it('re-hashes a credential exactly once, on its first right password, never on a wrong one', async () => {
    const before = await serviceWith('policy-change', 'length(8) and hashAlgorithm(bcrypt) and hashIterations(10)');
    const { token } = await before.createUser('victor', 'victor long password');
    const bcrypt = await credentialOf(before, 'victor');
    expect(bcrypt?.algorithm).toBe('bcrypt-sha256');

    const after = await serviceWith('policy-change', 'length(8) and hashAlgorithm(argon2) and hashIterations(3)', before.uri);
    const wrong = await call(after.app, 'post', VALIDATE, { token, body: { password: 'victor wrong password' } });
    expect(wrong.body).toEqual({ valid: false });
    expect(await credentialOf(after, 'victor')).toEqual(bcrypt);
    expect(after.counts.hash).toBe(0);

    const right = await call(after.app, 'post', VALIDATE, { token, body: { password: 'victor long password' } });
    expect(right.body).toEqual({ valid: true });
    const argon2 = await credentialOf(after, 'victor');
    expect(argon2?.algorithm).toBe('argon2');
    expect(argon2?.hash).toMatch(/^\$argon2id\$v=19\$m=7168,t=3,p=1\$/);
    // The same password: same id and age, and not a password change (the token still works).
    expect(argon2?.id).toBe(bcrypt?.id);
    expect(argon2?.createdAt).toEqual(bcrypt?.createdAt);
    expect((await after.resources.accounts.findByUsername('alpha', 'victor'))?.passwordChangedAt).toBeUndefined();
    expect(after.counts.hash).toBe(1);

    for (let i = 0; i < 3; i++) {
      expect((await call(after.app, 'post', VALIDATE, { token, body: { password: 'victor long password' } })).body).toEqual({ valid: true });
    }
    expect(await credentialOf(after, 'victor')).toEqual(argon2);
    expect(after.counts.hash).toBe(1);
  });

  it('re-hashes once when argon2 memory changes, and the old credential checks until then', async () => {
    const before = await serviceWith('memory-change', 'length(8)');
    const { token } = await before.createUser('wanda', 'wanda long password');
    expect((await credentialOf(before, 'wanda'))?.hash).toMatch(/^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
    const after = await startTestService(
      'memory-change',
      { mongodbUri: before.uri, realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE, argon2: { memory: 9216 } } } },
      issuer,
    );
    opened.push(after);
    expect((await call(after.app, 'post', VALIDATE, { token, body: { password: 'wanda long password' } })).body).toEqual({ valid: true });
    expect((await call(after.app, 'post', VALIDATE, { token, body: { password: 'wanda long password' } })).body).toEqual({ valid: true });
    expect((await credentialOf(after, 'wanda'))?.hash).toMatch(/^\$argon2id\$v=19\$m=9216,t=5,p=1\$/);
    expect(after.counts.hash).toBe(1);
  });
});

describe("credentials in Keycloak's formats", () => {
  it.each([
    ['argon2 (Keycloak 26 default)', KEYCLOAK_ARGON2],
    ['pbkdf2-sha512', KEYCLOAK_SHA512],
    ['pbkdf2-sha256', KEYCLOAK_SHA256],
    ['pbkdf2 (SHA-1)', KEYCLOAK_SHA1],
  ])('%s: checks, and is stored as an argon2id PHC string after the first right password', async (name, vector) => {
    if (!vector) throw new Error(`no vector for ${name}`);
    const service = await serviceWith(`keycloak-${vector.credential.algorithm}`, 'length(8)');
    const id = `keycloak-${vector.credential.algorithm}`;
    await insertUser(service.uri, id, 'xena', { ...vector.credential, createdAt: new Date(vector.credential.createdAt) });
    const token = await issuer.sign({ sub: id });
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: `${vector.password}x` } })).body).toEqual({ valid: false });
    expect((await credentialOf(service, 'xena'))?.algorithm).toBe(vector.credential.algorithm);
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: vector.password } })).body).toEqual({ valid: true });
    expect((await credentialOf(service, 'xena'))?.hash).toMatch(/^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: vector.password } })).body).toEqual({ valid: true });
  });

  it("keeps a realm with hashAlgorithm(pbkdf2-sha512) at Keycloak's layout and default iterations", async () => {
    const service = await serviceWith('keycloak-layout', 'length(8) and hashAlgorithm(pbkdf2-sha512)');
    await service.createUser('yuri', 'yuri long password');
    expect(await credentialOf(service, 'yuri')).toMatchObject({ algorithm: 'pbkdf2-sha512', parameters: { iterations: 210_000 }, salt: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/) as unknown });
  });
});

describe('hash settings are checked at start-up', () => {
  const realm = (extra: object): Parameters<typeof createPasswordResources>[0] => ({
    mongodbUri: 'mongodb://127.0.0.1:1/never',
    realms: { alpha: { issuer: 'https://idp.example/realms/alpha', ...extra } },
  });
  it.each([
    [realm({ passwordPolicy: 'hashIterations(101)' }), 'options.realms.alpha.passwordPolicy: hashIterations(101): must be an integer from 1 to 100 for argon2 (passes over memory; Keycloak ignores more than 100), got 101'],
    [realm({ passwordPolicy: 'hashAlgorithm(pbkdf2-sha512) and hashIterations(5)' }), 'options.realms.alpha.passwordPolicy: hashIterations(5): must be an integer from 10000 to 10000000 for pbkdf2-sha512, got 5'],
    [realm({ argon2: { memory: 2048 } }), 'options.realms.alpha.argon2.memory: must be an integer from 7168 to 1048576 (KiB), got 2048'],
    [realm({ argon2: { parallelism: 64 } }), 'options.realms.alpha.argon2.parallelism: must be an integer from 1 to 16, got 64'],
    [{ ...realm({}), argon2: { memory: 7168.5 } }, 'options.argon2.memory: must be an integer from 7168 to 1048576, got 7168.5'],
    [{ ...realm({}), hashAlgorithm: 'md5' }, 'options.hashAlgorithm: must be one of argon2, bcrypt, pbkdf2-sha512, pbkdf2-sha256, pbkdf2, got "md5"'],
  ] as const)('refuses %o naming the setting', (options, message) => {
    expect(() => createPasswordResources(options as Parameters<typeof createPasswordResources>[0])).toThrow(new OptionsError(message));
  });
});
