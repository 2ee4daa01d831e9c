import mongoose from 'mongoose';
import { createPasswordHasher } from '../../src/domain/hashing';
import { createMongooseUserStore } from '../../src/store/mongoose/user-store';
import { call, expectError } from '../helpers/api';
import { startTestService, TEST_BCRYPT_SCHEME } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const PATH = '/realms/alpha/password-resources/validate-password';
let service: TestService;
let alice: { id: string; token: string };

beforeAll(async () => {
  service = await startTestService('validate');
  alice = await service.createUser('alice', 'correct horse battery staple');
});
afterAll(async () => service.close());

describe('validate-password', () => {
  it('answers valid: true for the right password', async () => {
    const res = await call(service.app, 'post', PATH, { token: alice.token, body: { password: 'correct horse battery staple' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: true });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers valid: false for a wrong password', async () => {
    const res = await call(service.app, 'post', PATH, { token: alice.token, body: { password: 'correct horse battery stapler' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false });
  });

  it('refuses a request without a token with the bare challenge', async () => {
    const res = await call(service.app, 'post', PATH, { body: { password: 'x' } });
    expectError(res, 401, 'invalid_token', 'bare');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="alpha"');
  });

  it('answers 404 realm_not_found for an unknown realm, before looking at the token', async () => {
    const res = await call(service.app, 'post', '/realms/gamma/password-resources/validate-password', { token: 'garbage', body: { password: 'x' } });
    expectError(res, 404, 'realm_not_found');
  });
});

/** Put a user straight into the store, bypassing the service (which only creates enabled users). */
async function insertUser(uri: string, user: { id: string; username: string; enabled: boolean; password: string }): Promise<void> {
  const connection = mongoose.createConnection(uri);
  try {
    const credential = await createPasswordHasher().hash(user.password, TEST_BCRYPT_SCHEME);
    await createMongooseUserStore(connection).create({ realm: 'alpha', id: user.id, username: user.username, enabled: user.enabled, credential, requiredActions: [] });
  } finally {
    await connection.close();
  }
}

describe('validate-password, beyond the happy path', () => {
  it('refuses the token of a disabled user with 401, running no password check', async () => {
    await insertUser(service.uri, { id: 'sub-disabled', username: 'mallory', enabled: false, password: 'disabled user password' });
    const before = { ...service.counts };
    const token = await service.issuer.sign({ sub: 'sub-disabled' });
    const res = await call(service.app, 'post', PATH, { token, body: { password: 'disabled user password' } });
    expectError(res, 401, 'invalid_token', 'error');
    expect(service.counts).toEqual(before);
  });

  it('answers an unexpected failure with 500 server_error and no internals', async () => {
    const failure = (): Promise<never> => Promise.reject(new Error('secret internal detail at /srv/app.js:12'));
    const failing = await startTestService('validate-500', { hasher: { hash: failure, verify: failure, needsRehash: () => false } }, service.issuer);
    try {
      await insertUser(failing.uri, { id: 'sub-peggy', username: 'peggy', enabled: true, password: 'peggy password' });
      const res = await call(failing.app, 'post', PATH, { token: await service.issuer.sign({ sub: 'sub-peggy' }), body: { password: 'peggy password' } });
      expectError(res, 500, 'server_error');
      expect(res.body).toEqual({ error: 'server_error', error_description: `The server could not complete the request. Request id: ${String(res.headers['x-request-id'])}.` });
      expect(res.text).not.toContain('secret internal detail');
    } finally {
      await failing.close();
    }
  });
});

describe('credential upgrades', () => {
  it("re-makes a right password kept in another scheme in the realm's, without counting it as a change", async () => {
    const { id, token } = await service.createUser('nora', 'nora long password'); // made with the default, argon2id
    const stronger = await startTestService('validate-rehash', { mongodbUri: service.uri, hashAlgorithm: 'bcrypt', bcryptCost: 11, hasher: createPasswordHasher() }, service.issuer);
    try {
      const res = await call(stronger.app, 'post', PATH, { token, body: { password: 'nora long password' } });
      expect(res.body).toEqual({ valid: true });
      const user = await stronger.resources.accounts.findByUsername('alpha', 'nora');
      expect(user?.credential?.hash).toMatch(/^\$2b\$11\$/);
      expect(user?.passwordChangedAt).toBeUndefined();
      // The same token still works, and so does the password.
      const again = await call(stronger.app, 'post', PATH, { token, body: { password: 'nora long password' } });
      expect(again.body).toEqual({ valid: true });
      expect(id).toBe(user?.id);
    } finally {
      await stronger.close();
    }
  });

  it("leaves a credential in the realm's scheme alone", async () => {
    const { token } = await service.createUser('olga', 'olga long password');
    const before = (await service.resources.accounts.findByUsername('alpha', 'olga'))?.credential?.hash;
    await call(service.app, 'post', PATH, { token, body: { password: 'olga long password' } });
    expect((await service.resources.accounts.findByUsername('alpha', 'olga'))?.credential?.hash).toBe(before);
  });
});
