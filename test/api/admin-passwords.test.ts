import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { call, expectError } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const USERS = '/admin/realms/alpha/users';
const VALIDATE = '/realms/alpha/password-resources/validate-password';
const RESET = '/realms/alpha/password-resources/reset-password';
let service: TestService;
let connection: Connection;
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  service = await startTestService(
    'admin-passwords',
    {
      passwordPolicy: 'length(12) and digits(2) and upperCase and notUsername and passwordHistory(3)',
      realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: { failureFactor: 3, waitIncrementSeconds: 600, quickLoginCheckMilliSeconds: 0 } } },
    },
    issuer,
  );
  connection = await mongoose.createConnection(service.uri, { bufferCommands: false }).asPromise();
});
afterAll(async () => {
  await connection.close();
  await service.close();
  await issuer.stop();
});

const admin = (roles = ['manage-users', 'view-events']): Promise<string> =>
  service.issuer.sign({ sub: 'admin-7', azp: 'admin-cli', resource_access: { 'realm-management': { roles } } });

async function newUser(username: string, password: string): Promise<string> {
  return (await service.createUser(username, password)).id;
}

async function validate(id: string, password: string): Promise<unknown> {
  const res = await call(service.app, 'post', VALIDATE, { token: await service.issuer.signAfterChange(id), body: { password } });
  return res.body;
}

describe('PUT /users/{id}/reset-password', () => {
  it("sets the password in Keycloak's shape; temporary adds UPDATE_PASSWORD, which the user's own change clears", async () => {
    const id = await newUser('gustav', 'Gustav first 11');
    const token = await admin();
    const res = await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { type: 'password', value: 'Temporary pw 22', temporary: true } });
    expect(res.status).toBe(204);
    expect(await validate(id, 'Gustav first 11')).toEqual({ valid: false });
    expect(await validate(id, 'Temporary pw 22')).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
    const change = await call(service.app, 'post', RESET, { token: await service.issuer.signAfterChange(id), body: { currentPassword: 'Temporary pw 22', newPassword: 'Gustav own 33' } });
    expect(change.status).toBe(204);
    expect(await validate(id, 'Gustav own 33')).toEqual({ valid: true });

    // temporary: false (Keycloak's default) clears it.
    await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { value: 'Temporary pw 44', temporary: true } });
    await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { value: 'Permanent pw 55' } });
    expect(await validate(id, 'Permanent pw 55')).toEqual({ valid: true });
  });

  it('refuses tokens issued before the reset', async () => {
    const id = await newUser('hanna', 'Hanna first 11');
    const before = await service.issuer.sign({ sub: id, iat: Math.floor(Date.now() / 1000) - 5 });
    await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token: await admin(), body: { value: 'Hanna second 22' } });
    expectError(await call(service.app, 'post', VALIDATE, { token: before, body: { password: 'Hanna second 22' } }), 401, 'invalid_token', 'error');
  });

  it('applies the policy with every violation at once, and the history', async () => {
    const id = await newUser('ingrid', 'Ingrid first 11');
    const token = await admin();
    const weak = await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { value: 'ingrid' } });
    expectError(weak, 400, 'invalid_password');
    expect((weak.body as { violations: { policy: string }[] }).violations.map((v) => v.policy)).toEqual(['length', 'digits', 'upperCase', 'notUsername']);
    const reused = await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { value: 'Ingrid first 11' } });
    expectError(reused, 400, 'invalid_password');
    expect((reused.body as { violations: { policy: string }[] }).violations.map((v) => v.policy)).toEqual(['passwordHistory']);
  });

  it('refuses a body Keycloak would not take, or one that asks for two things', async () => {
    const id = await newUser('jonas', 'Jonas first 11');
    const token = await admin();
    for (const body of [{ type: 'otp', value: 'Jonas second 22' }, {}, { value: '' }, { value: 'Jonas second 22', generate: true }, { value: 'Jonas second 22', temporaryExpiresIn: 3600 }]) {
      expectError(await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body }), 400, 'invalid_request', 'error');
    }
  });

  it('generates a password that meets the policy, returns it once, and never stores it in plain text', async () => {
    const id = await newUser('karin', 'Karin first 11');
    const res = await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token: await admin(), body: { generate: true, temporary: true } });
    expect(res.status).toBe(200);
    const { value, temporary } = res.body as { value: string; temporary: boolean };
    expect(temporary).toBe(true);
    expect(value.length).toBeGreaterThanOrEqual(20);
    expect(await validate(id, value)).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
    const db = connection.db;
    if (!db) throw new Error('no database');
    let dump = '';
    for (const { name } of await db.listCollections().toArray()) dump += JSON.stringify(await db.collection(name).find().toArray());
    expect(dump).not.toContain(value);
  });

  it('lets a temporary password expire (temporaryExpiresIn); only an admin can then recover the account', async () => {
    const id = await newUser('lars', 'Lars first 1122');
    const token = await admin();
    await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { value: 'Lars temporary 22', temporary: true, temporaryExpiresIn: 600 } });
    expect(await validate(id, 'Lars temporary 22')).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
    const listed = await call(service.app, 'get', `${USERS}/${id}/credentials`, { token });
    expect(listed.body).toEqual([{ id: expect.any(String) as string, type: 'password', createdDate: expect.any(Number) as number, temporary: true, expiresAt: expect.any(Number) as number }]);

    // Ten minutes later, as the database sees it.
    await connection.collection('users').updateOne({ userId: id }, { $set: { 'credential.expiresAt': new Date(Date.now() - 1000) } });
    expect(await validate(id, 'Lars temporary 22')).toEqual({ valid: false });
    const own = await call(service.app, 'post', RESET, { token: await service.issuer.signAfterChange(id), body: { currentPassword: 'Lars temporary 22', newPassword: 'Lars chosen 3344' } });
    expectError(own, 401, 'invalid_current_password', 'bare');
    await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { value: 'Lars recovered 44' } });
    expect(await validate(id, 'Lars recovered 44')).toEqual({ valid: true });
  });
});

describe('credentials', () => {
  it('lists metadata only and removes the password, after which nothing validates', async () => {
    const id = await newUser('maja', 'Maja first 1122');
    const token = await admin();
    const listed = await call(service.app, 'get', `${USERS}/${id}/credentials`, { token });
    expect(listed.status).toBe(200);
    const [credential] = listed.body as { id: string; temporary: boolean }[];
    expect(credential?.temporary).toBe(false);
    expect(JSON.stringify(listed.body)).not.toMatch(/\$2b\$|hash|salt/);
    expectError(await call(service.app, 'delete', `${USERS}/${id}/credentials/not-this-one`, { token }), 404, 'not_found');
    expect((await call(service.app, 'delete', `${USERS}/${id}/credentials/${credential?.id ?? ''}`, { token })).status).toBe(204);
    expect((await call(service.app, 'get', `${USERS}/${id}/credentials`, { token })).body).toEqual([]);
    expect(await validate(id, 'Maja first 1122')).toEqual({ valid: false });
  });
});

describe('attack detection', () => {
  it('shows a lockout in Keycloak\'s shape and unlocks the user', async () => {
    const id = await newUser('nils', 'Nils first 1122');
    const token = await admin(['manage-users']);
    for (let i = 0; i < 3; i++) await validate(id, 'wrong password 00');
    const locked = await call(service.app, 'post', VALIDATE, { token: await service.issuer.signAfterChange(id), body: { password: 'Nils first 1122' } });
    expectError(locked, 429, 'too_many_failures');
    const status = await call(service.app, 'get', `/admin/realms/alpha/attack-detection/brute-force/users/${id}`, { token });
    expect(status.body).toMatchObject({ numFailures: 3, disabled: true, lastIPFailure: 'n/a', lockedUntil: expect.any(Number) as number });
    expect((await call(service.app, 'delete', `/admin/realms/alpha/attack-detection/brute-force/users/${id}`, { token })).status).toBe(204);
    expect((await call(service.app, 'get', `/admin/realms/alpha/attack-detection/brute-force/users/${id}`, { token })).body).toEqual({
      numFailures: 0,
      numTemporaryLockouts: 0,
      disabled: false,
      lastFailure: 0,
      lastIPFailure: 'n/a',
    });
    expect(await validate(id, 'Nils first 1122')).toEqual({ valid: true });
  });
});

describe('events', () => {
  it("records who did what in admin events, and the user's own events, in Keycloak's query shape", async () => {
    const id = await newUser('olga', 'Olga first 1122');
    const token = await admin();
    await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { value: 'olga' } });
    await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { value: 'Olga second 2233' } });
    await validate(id, 'Olga second 2233');

    const adminEvents = await call(service.app, 'get', `/admin/realms/alpha/admin-events?resourcePath=users/${id}/reset-password&operationTypes=ACTION`, { token });
    expect(adminEvents.status).toBe(200);
    expect(adminEvents.body).toEqual([
      expect.objectContaining({ operationType: 'ACTION', resourceType: 'USER', resourcePath: `users/${id}/reset-password`, authDetails: { realmId: 'alpha', userId: 'admin-7', clientId: 'admin-cli', ipAddress: '127.0.0.1' } }),
      expect.objectContaining({ resourcePath: `users/${id}/reset-password`, error: 'invalid_password' }),
    ]);
    const userEvents = await call(service.app, 'get', `/admin/realms/alpha/events?user=${id}&type=VALIDATE_PASSWORD&type=UPDATE_PASSWORD&max=10`, { token });
    expect((userEvents.body as { type: string }[]).map((event) => event.type)).toEqual(['VALIDATE_PASSWORD', 'UPDATE_PASSWORD']);
    const today = new Date().toISOString().slice(0, 10);
    const byDay = await call(service.app, 'get', `/admin/realms/alpha/events?user=${id}&dateFrom=${today}&dateTo=${today}`, { token });
    expect((byDay.body as unknown[]).length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify([adminEvents.body, userEvents.body])).not.toContain('Olga second');
  });

  it('needs view-events', async () => {
    const res = await call(service.app, 'get', '/admin/realms/alpha/events', { token: await admin(['manage-users']) });
    expectError(res, 403, 'insufficient_scope', 'error');
    expect((res.body as { error_description: string }).error_description).toContain('"view-events"');
  });
});
