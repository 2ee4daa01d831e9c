import { createServer } from 'node:http';
import type { Server } from 'node:http';
import pino from 'pino';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { createApp } from '../../src/app';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources } from '../../src/index';
import { freePort } from '../../src/db/mongo-server';
import { call } from '../helpers/api';
import { testDatabaseUri } from '../helpers/db';
import { KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';
import { RELAXED_BRUTE_FORCE, TEST_BCRYPT_COST } from '../helpers/setup';

/**
 * Passwords here, checked at Keycloak's login: the password-resources
 * provider (keycloak-provider/, loaded by the run's Keycloak) asks the
 * service's login-check and sets passwords through its admin API.
 */
const keycloak = KeycloakAdmin.fromEnv();
const realm = uniqueRealm('provider');
const LOGIN_CLIENT = { clientId: 'password-resources-login', secret: 'provider-client-secret' };
let resources: PasswordResources;
let server: Server;
let port: number;
let componentId: string;

async function listen(): Promise<void> {
  server = createServer(createApp(resources, pino({ level: 'silent' })));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

async function stop(): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}

async function canLogIn(username: string, password: string): Promise<boolean> {
  return keycloak.login(realm, 'app', username, password).then(
    () => true,
    () => false,
  );
}

/** Keycloak's answer to a password grant: 200, or its error. */
async function grant(username: string, password: string): Promise<string> {
  return keycloak.login(realm, 'app', username, password).then(
    () => 'ok',
    (error: unknown) => String(error),
  );
}

/**
 * Keycloak's own login page in Debian's Chromium: the page Keycloak shows
 * after the form is sent, `signed in` when it redirects with a code.
 */
async function browserLogin(username: string, password: string): Promise<'signed in' | 'update password' | 'refused'> {
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const redirect = `http://127.0.0.1:${port}/signed-in`;
    await page.goto(`${keycloak.issuerOf(realm)}/protocol/openid-connect/auth?client_id=app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(redirect)}`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('#kc-login');
    await Promise.race([
      page.waitForURL((url) => url.href.startsWith(redirect), { timeout: 15_000 }),
      page.waitForSelector('[id^="input-error"], #password-new', { timeout: 15_000 }),
    ]);
    if (page.url().startsWith(redirect) && page.url().includes('code=')) return 'signed in';
    if ((await page.locator('#password-new').count()) > 0) return 'update password';
    return 'refused';
  } finally {
    await browser.close();
  }
}

/** Keycloak's "Sync all users" for the provider. */
async function sync(): Promise<{ added: number; updated: number; failed: number }> {
  return (await keycloak.request<{ added: number; updated: number; failed: number }>('POST', `/${realm}/user-storage/${componentId}/sync?action=triggerFullSync`)).body;
}

/** A user as Keycloak had them before the migration, and the same user (same id, same password) here. */
async function migrated(username: string, password: string): Promise<string> {
  const id = await keycloak.createUser(realm, { username, password });
  await resources.accounts.createUser({ realm, id, username, email: `${username}@example.com`, firstName: username, lastName: 'Tester', emailVerified: true, password });
  return id;
}

beforeAll(async () => {
  port = await freePort();
  resources = createPasswordResources({
    mongodbUri: testDatabaseUri('keycloak-provider'),
    realms: { [realm]: { issuer: keycloak.issuerOf(realm), bruteForce: { ...RELAXED_BRUTE_FORCE, failureFactor: 3 } } },
    bcryptCost: TEST_BCRYPT_COST,
    logger: pino({ level: 'silent' }),
  });
  await resources.ready();
  await listen();
  await keycloak.createRealm(realm);
  // Any redirect: the browser test only looks at where Keycloak sends it.
  await keycloak.createClient(realm, { clientId: 'app', publicClient: true, directAccessGrantsEnabled: true, redirectUris: ['*'] });
  const loginClient = await keycloak.createClient(realm, {
    clientId: LOGIN_CLIENT.clientId,
    publicClient: false,
    secret: LOGIN_CLIENT.secret,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
  });
  await keycloak.grantRealmManagement(realm, loginClient, ['view-users', 'manage-users']);
  await keycloak.request('POST', `/${realm}/roles`, { name: 'login-check' });
  const { body: role } = await keycloak.request<{ id: string; name: string }>('GET', `/${realm}/roles/login-check`);
  const { body: serviceAccount } = await keycloak.request<{ id: string }>('GET', `/${realm}/clients/${loginClient}/service-account-user`);
  await keycloak.request('POST', `/${realm}/users/${serviceAccount.id}/role-mappings/realm`, [role]);
});
afterAll(async () => {
  await stop();
  await resources.close();
  await keycloak.deleteRealm(realm);
});

describe('the password-resources provider in Keycloak', () => {
  let aliceId: string;

  it('links the migrated users on "Sync all users" and drops the password Keycloak kept', async () => {
    aliceId = await migrated('alice', 'alice first password');
    const { body: realmRep } = await keycloak.request<{ id: string }>('GET', `/${realm}`);
    const { location } = await keycloak.request('POST', `/${realm}/components`, {
      name: 'password-resources',
      providerId: 'password-resources',
      providerType: 'org.keycloak.storage.UserStorageProvider',
      parentId: realmRep.id,
      config: {
        serviceUrl: [`http://127.0.0.1:${port}`],
        keycloakUrl: [keycloak.url],
        clientId: [LOGIN_CLIENT.clientId],
        clientSecret: [LOGIN_CLIENT.secret],
        timeoutMs: ['2000'],
      },
    });
    componentId = location?.split('/').at(-1) ?? '';
    expect(await sync()).toMatchObject({ updated: 1, failed: 0 });
    const { body: alice } = await keycloak.request<{ id: string; federationLink?: string }>('GET', `/${realm}/users/${aliceId}`);
    expect(alice).toMatchObject({ id: aliceId, federationLink: componentId });
    const { body: credentials } = await keycloak.request<unknown[]>('GET', `/${realm}/users/${aliceId}/credentials`);
    expect(credentials).toEqual([]);
    expect(await canLogIn('alice', 'alice first password')).toBe(true);
  });

  it('opens the account with the password changed here, and no longer with the old one', async () => {
    const token = (await keycloak.login(realm, 'app', 'alice', 'alice first password')).access_token;
    const res = await call(createApp(resources, pino({ level: 'silent' })), 'post', `/realms/${realm}/password-resources/reset-password`, {
      token,
      body: { currentPassword: 'alice first password', newPassword: 'alice second password' },
    });
    expect(res.status).toBe(204);
    expect(await canLogIn('alice', 'alice second password')).toBe(true);
    expect(await grant('alice', 'alice first password')).toMatch(/400 .*invalid_grant/);
    expect(await browserLogin('alice', 'alice first password')).toBe('refused');
    expect(await browserLogin('alice', 'alice second password')).toBe('signed in');
  });

  it('sets an admin\'s temporary password here, where it is temporary, and Keycloak asks for a new one', async () => {
    await keycloak.request('PUT', `/${realm}/users/${aliceId}/reset-password`, { type: 'password', value: 'alice temporary 1', temporary: true });
    const here = await resources.accounts.findByUsername(realm, 'alice');
    expect(here?.requiredActions).toContain('UPDATE_PASSWORD');
    expect(await grant('alice', 'alice temporary 1')).toMatch(/Account is not fully set up/);
    expect(await browserLogin('alice', 'alice temporary 1')).toBe('update password');
    expect(await grant('alice', 'alice second password')).toMatch(/400 .*invalid_grant/);
    // Back to a password of her own, through Keycloak's admin API: the service sets it and clears UPDATE_PASSWORD.
    await keycloak.request('PUT', `/${realm}/users/${aliceId}/reset-password`, { type: 'password', value: 'alice third password', temporary: false });
    expect((await resources.accounts.findByUsername(realm, 'alice'))?.requiredActions).not.toContain('UPDATE_PASSWORD');
    expect(await canLogIn('alice', 'alice third password')).toBe(true);
  });

  it('imports a user the service has and Keycloak not, with the service\'s id, at their first login', async () => {
    const bob = await resources.accounts.createUser({ realm, username: 'bob', email: 'bob@example.com', firstName: 'Bob', lastName: 'Tester', emailVerified: true, password: 'bob first password' });
    const tokens = await keycloak.login(realm, 'app', 'bob', 'bob first password');
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string };
    expect(claims.sub).toBe(bob.id);
  });

  it('counts wrong guesses at Keycloak\'s login toward our lockout', async () => {
    await resources.accounts.createUser({ realm, username: 'carol', email: 'carol@example.com', firstName: 'Carol', lastName: 'Tester', emailVerified: true, password: 'carol first password' });
    for (let i = 0; i < 3; i++) expect(await canLogIn('carol', `wrong guess ${i}`)).toBe(false);
    const carol = await resources.accounts.findByUsername(realm, 'carol');
    expect(carol?.loginFailures?.lockedUntil?.getTime()).toBeGreaterThan(Date.now());
    expect(await canLogIn('carol', 'carol first password')).toBe(false);
  });

  it('refuses logins while the service is away, and lets them in again when it is back', async () => {
    await migrated('dave', 'dave first password');
    await sync();
    expect(await canLogIn('dave', 'dave first password')).toBe(true);
    await stop();
    expect(await grant('dave', 'dave first password')).toMatch(/401 .*invalid_grant|400 .*invalid_grant/);
    await listen();
    expect(await canLogIn('dave', 'dave first password')).toBe(true);
  });
});
