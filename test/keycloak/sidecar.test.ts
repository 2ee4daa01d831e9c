import { call, expectError } from '../helpers/api';
import { audienceMapper, KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';
import type { TestService } from '../helpers/setup';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import mongoose from 'mongoose';
import { freePort } from '../../src/db/mongo-server';

/**
 * Sidecar mode: the passwords stay in Keycloak. validate-password checks them
 * there with a direct grant, reset-password sets them with Keycloak's admin
 * reset-password; tokens, lockout, revocation and the contract are ours.
 */
const keycloak = KeycloakAdmin.fromEnv();
const realm = uniqueRealm('sidecar');
/** Keycloak's own policy is stricter than ours, so its refusals show. */
const KEYCLOAK_POLICY = 'length(10) and digits(2)';
const CLIENT = { clientId: 'password-resources', clientSecret: 'sidecar-client-secret' };
const PASSWORD = 'sidecar password 12';

let service: TestService;
let downService: TestService;
let lockingRealm: string;

async function user(username: string, extra: { temporary?: boolean } = {}): Promise<{ id: string; token: string }> {
  const id = await keycloak.createUser(realm, { username, password: PASSWORD });
  const token = (await keycloak.login(realm, 'spa', username, PASSWORD)).access_token;
  // A temporary password gets no token from Keycloak: the user signed in before an administrator set one.
  if (extra.temporary) await keycloak.request('PUT', `/${realm}/users/${id}/reset-password`, { type: 'password', value: PASSWORD, temporary: true });
  return { id, token };
}

async function sessionsOf(name: string, id: string): Promise<{ clients: Record<string, string> }[]> {
  return (await keycloak.request<{ clients: Record<string, string> }[]>('GET', `/${name}/users/${id}/sessions`)).body;
}

async function canLogIn(username: string, password: string): Promise<boolean> {
  return keycloak.login(realm, 'spa', username, password).then(
    () => true,
    () => false,
  );
}

async function setUpRealm(name: string, extra: Record<string, unknown>): Promise<void> {
  await keycloak.createRealm(name, { passwordPolicy: KEYCLOAK_POLICY, ...extra });
  await keycloak.createClient(name, { clientId: 'spa', publicClient: true, directAccessGrantsEnabled: true, protocolMappers: [audienceMapper('password-resources')] });
  const internal = await keycloak.createClient(name, {
    clientId: CLIENT.clientId,
    publicClient: false,
    secret: CLIENT.clientSecret,
    serviceAccountsEnabled: true,
    directAccessGrantsEnabled: true,
    standardFlowEnabled: false,
  });
  await keycloak.grantRealmManagement(name, internal, ['view-users', 'manage-users']);
}

const validate = (name: string, token: string, password: string, app = service.app) =>
  call(app, 'post', `/realms/${name}/password-resources/validate-password`, { token, body: { password } });
const change = (name: string, token: string, currentPassword: string, newPassword: string) =>
  call(service.app, 'post', `/realms/${name}/password-resources/reset-password`, { token, body: { currentPassword, newPassword } });

beforeAll(async () => {
  lockingRealm = uniqueRealm('sidecar-locking');
  await setUpRealm(realm, {});
  // Keycloak's detector locks after 2 wrong passwords; ours stays out of its way.
  await setUpRealm(lockingRealm, { bruteForceProtected: true, failureFactor: 2, quickLoginCheckMilliSeconds: 0, waitIncrementSeconds: 120 });
  const sidecar = { type: 'keycloak', ...CLIENT } as const;
  service = await startTestService('keycloak-sidecar', {
    realms: {
      [realm]: { issuer: keycloak.issuerOf(realm), audience: 'password-resources', credentialStore: sidecar, bruteForce: { failureFactor: 3, quickLoginCheckMilliSeconds: 0 } },
      [lockingRealm]: { issuer: keycloak.issuerOf(lockingRealm), audience: 'password-resources', credentialStore: sidecar, bruteForce: RELAXED_BRUTE_FORCE },
    },
  });
  // The same realm, but its Keycloak admin and token endpoints on a port where nothing listens.
  downService = await startTestService('keycloak-sidecar-down', {
    realms: {
      [realm]: {
        issuer: keycloak.issuerOf(realm),
        audience: 'password-resources',
        credentialStore: { ...sidecar, serverUrl: `http://127.0.0.1:${await freePort()}`, realm, timeoutMs: 2_000 },
      },
    },
  });
});
afterAll(async () => {
  await service.close();
  await downService.close();
  await keycloak.deleteRealm(realm);
  await keycloak.deleteRealm(lockingRealm);
});

describe('readiness', () => {
  it('is ready only while Keycloak, which keeps the passwords, answers', async () => {
    expect((await call(service.app, 'get', '/readyz')).status).toBe(200);
    expectError(await call(downService.app, 'get', '/readyz'), 503, 'temporarily_unavailable');
  });
});

describe('validate-password against Keycloak', () => {
  it("answers from Keycloak's password and leaves no session of ours behind", async () => {
    const { id, token } = await user('vera');
    expect((await validate(realm, token, PASSWORD)).body).toEqual({ valid: true });
    expect((await validate(realm, token, 'not her password 00')).body).toEqual({ valid: false });
    const sessions = await sessionsOf(realm, id);
    // Only the session of the test's own sign-in (client spa) remains.
    expect(sessions.flatMap((s) => Object.values(s.clients))).toEqual(['spa']);
  });

  it('takes a temporary password as valid and names UPDATE_PASSWORD (Keycloak says "Account is not fully set up")', async () => {
    const { token } = await user('tess', { temporary: true });
    expect((await validate(realm, token, PASSWORD)).body).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
    expect((await validate(realm, token, 'not her password 00')).body).toEqual({ valid: false });
  });

  it('refuses the token of a user disabled in Keycloak', async () => {
    const { id, token } = await user('dora');
    await keycloak.request('PUT', `/${realm}/users/${id}`, { enabled: false });
    expectError(await validate(realm, token, PASSWORD), 401, 'invalid_token', 'error');
  });

  it('serves a user Keycloak deleted and re-created under the same username, and one it renamed', async () => {
    const first = await user('remy');
    expect((await validate(realm, first.token, PASSWORD)).body).toEqual({ valid: true });
    await keycloak.request('DELETE', `/${realm}/users/${first.id}`);
    // The new remy reuses the old one's username and email, which our copy of the old one still holds.
    const second = await user('remy');
    expect(second.id).not.toBe(first.id);
    expect((await validate(realm, second.token, PASSWORD)).body).toEqual({ valid: true });
    expect((await service.resources.accounts.findByUsername(realm, 'remy'))?.id).toBe(second.id);

    // Renamed in Keycloak: a new user takes the old name while our copy of the renamed one still holds it.
    await keycloak.updateRealm(realm, { editUsernameAllowed: true });
    await keycloak.request('PUT', `/${realm}/users/${second.id}`, { username: 'remy-renamed', email: 'remy-renamed@example.com', firstName: 'remy', lastName: 'Tester' });
    const third = await user('remy');
    expect((await validate(realm, third.token, PASSWORD)).body).toEqual({ valid: true });
    expect((await validate(realm, second.token, PASSWORD)).body).toEqual({ valid: true });
    expect((await service.resources.accounts.findByUsername(realm, 'remy'))?.id).toBe(third.id);
    expect((await service.resources.accounts.findByUsername(realm, 'remy-renamed'))?.id).toBe(second.id);
  });

  it('records the same audit events as with MongoDB, never a password', async () => {
    const { id, token } = await user('abel');
    await validate(realm, token, PASSWORD);
    await validate(realm, token, 'not his password 00');
    const connection = await mongoose.createConnection(service.uri, { bufferCommands: false }).asPromise();
    try {
      const events = await connection.collection('events').find({ userId: id }, { projection: { _id: 0, time: 0, ip: 0 } }).sort({ time: 1, _id: 1 }).toArray();
      expect(events).toEqual([
        { type: 'VALIDATE_PASSWORD', realm, userId: id, clientId: 'spa', error: null },
        { type: 'VALIDATE_PASSWORD_ERROR', realm, userId: id, clientId: 'spa', error: 'invalid_user_credentials' },
      ]);
      expect(JSON.stringify(events)).not.toContain(PASSWORD);
    } finally {
      await connection.close();
    }
  });

  it('counts wrong passwords in our database and locks before asking Keycloak', async () => {
    const { token } = await user('lena');
    for (let i = 0; i < 3; i++) expect((await validate(realm, token, `wrong guess ${i}0`)).body).toEqual({ valid: false });
    expectError(await validate(realm, token, PASSWORD), 429, 'too_many_failures');
  });

  it("answers 429 for a user Keycloak's own brute force detector has locked, even with the right password", async () => {
    const id = await keycloak.createUser(lockingRealm, { username: 'kurt', password: PASSWORD });
    const token = (await keycloak.login(lockingRealm, 'spa', 'kurt', PASSWORD)).access_token;
    expect((await validate(lockingRealm, token, 'wrong guess 10')).body).toEqual({ valid: false });
    // Keycloak locks at its failureFactor-th failure, so this wrong answer already finds the user locked.
    expectError(await validate(lockingRealm, token, 'wrong guess 20'), 429, 'too_many_failures');
    const { body: state } = await keycloak.request<{ disabled: boolean }>('GET', `/${lockingRealm}/attack-detection/brute-force/users/${id}`);
    expect(state.disabled).toBe(true);
    const res = await validate(lockingRealm, token, PASSWORD);
    expectError(res, 429, 'too_many_failures');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(60);
  });

  it('fails closed with 503 when Keycloak cannot be reached, never a success', async () => {
    const { token } = await user('otto');
    const res = await validate(realm, token, PASSWORD, downService.app);
    expectError(res, 503, 'temporarily_unavailable');
  });
});

describe('reset-password against Keycloak', () => {
  it('sets the new password in Keycloak, and refuses the token that predates it', async () => {
    const { token } = await user('rick');
    expect((await change(realm, token, PASSWORD, 'a new sidecar password 34')).status).toBe(204);
    expect(await canLogIn('rick', 'a new sidecar password 34')).toBe(true);
    expect(await canLogIn('rick', PASSWORD)).toBe(false);
    expectError(await validate(realm, token, 'a new sidecar password 34'), 401, 'invalid_token', 'error');
  });

  it("maps Keycloak's policy refusal to 400 invalid_password, and changes nothing", async () => {
    const { token } = await user('polly');
    // Our policy (the NIST default) takes it; Keycloak's digits(2) does not.
    const res = await change(realm, token, PASSWORD, 'only one digit here 1');
    expectError(res, 400, 'invalid_password');
    expect((res.body as { violations: unknown }).violations).toEqual([{ policy: 'digits', parameter: 2, message: expect.stringMatching(/digit/i) as unknown }]);
    expect(await canLogIn('polly', PASSWORD)).toBe(true);
    // Keycloak's length comes back the same way.
    const short = await change(realm, token, PASSWORD, 'short 12');
    expect((short.body as { violations: unknown }).violations).toEqual([{ policy: 'length', parameter: 10, message: expect.stringMatching(/length/i) as unknown }]);
  });

  it('refuses a new password over the hard cap as a maxLength violation at once, asking Keycloak nothing', async () => {
    const { token } = await user('cappy');
    const started = performance.now();
    // A wrong current password too: Keycloak, asked, would have made this a 401.
    const res = await change(realm, token, 'not the current 00', `12${'x'.repeat(1024)}`);
    const ms = performance.now() - started;
    expectError(res, 400, 'invalid_password');
    // The realm's own rule (the NIST default's maxLength(128)) speaks for the cap.
    expect((res.body as { violations: unknown }).violations).toEqual([{ policy: 'maxLength', parameter: 128, message: 'The password must have at most 128 characters.' }]);
    expect(ms).toBeLessThan(500);
    expect(await canLogIn('cappy', PASSWORD)).toBe(true);
  });

  it('answers a wrong current password with 401 invalid_current_password', async () => {
    const { token } = await user('walt');
    expectError(await change(realm, token, 'not the current 00', 'a new sidecar password 56'), 401, 'invalid_current_password', 'bare');
    expect(await canLogIn('walt', PASSWORD)).toBe(true);
  });

  it('replaces a temporary password and clears UPDATE_PASSWORD in Keycloak', async () => {
    const { id, token } = await user('tina', { temporary: true });
    expect((await change(realm, token, PASSWORD, 'her own password 78')).status).toBe(204);
    const { body } = await keycloak.request<{ requiredActions: string[] }>('GET', `/${realm}/users/${id}`);
    expect(body.requiredActions).toEqual([]);
    expect(await canLogIn('tina', 'her own password 78')).toBe(true);
  });

  it('fails closed with 503 when Keycloak cannot be reached', async () => {
    const { token } = await user('owen');
    const res = await call(downService.app, 'post', `/realms/${realm}/password-resources/reset-password`, {
      token,
      body: { currentPassword: PASSWORD, newPassword: 'a new sidecar password 90' },
    });
    expectError(res, 503, 'temporarily_unavailable');
    expect(await canLogIn('owen', PASSWORD)).toBe(true);
  });
});
