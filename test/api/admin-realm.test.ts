import { generateKeyPair, SignJWT } from 'jose';
import { call, expectError } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

/**
 * Keycloak's administrators of the `master` realm at every realm's admin API:
 * their tokens verified against master's issuer and keys, their rights on a
 * realm read from master's `<realm>-realm` client, as Keycloak reads them.
 */
let idp: TestIssuer;
let service: TestService;

const SMTP_SECRET = 'smtp secret 1234';

beforeAll(async () => {
  idp = await TestIssuer.start();
  service = await startTestService(
    'admin-realm',
    {
      realms: {
        alpha: {
          issuer: idp.issuerOf('alpha'),
          bruteForce: { ...RELAXED_BRUTE_FORCE, maxFailureWaitSeconds: 600 },
          passwordPolicy: 'length(10) and notUsername',
          smtp: { host: '127.0.0.1', port: 2525, from: 'no-reply@example.com', auth: true, user: 'mailer', password: SMTP_SECRET },
        },
        beta: { issuer: idp.issuerOf('beta'), bruteForce: RELAXED_BRUTE_FORCE },
        // Administered by its own admins and those of "ops", not master's.
        gamma: { issuer: idp.issuerOf('gamma'), adminRealm: 'ops' },
        // No admin realm at all.
        delta: { issuer: idp.issuerOf('delta'), adminRealm: false },
        // Keycloak's admin realm itself: its own admins' roles are in master-realm.
        master: { issuer: idp.issuerOf('master') },
      },
    },
    idp,
  );
});
afterAll(async () => {
  await service.close();
  await idp.stop();
});

/** A master administrator's token with these client roles, by client (`<realm>-realm`), as Keycloak issues it to admin-cli. */
async function masterToken(access: Record<string, string[]>, realmRoles: string[] = []): Promise<string> {
  return idp.sign(
    {
      sub: 'master-admin',
      azp: 'admin-cli',
      realm_access: { roles: realmRoles },
      resource_access: Object.fromEntries(Object.entries(access).map(([client, roles]) => [client, { roles }])),
    },
    { realm: 'master' },
  );
}

const description = (res: { body: unknown }): string => (res.body as { error_description: string }).error_description;

describe('administrators of the master realm', () => {
  it('manage a realm with the roles master gives them on it (client <realm>-realm), as Keycloak', async () => {
    const token = await masterToken({ 'alpha-realm': ['manage-users'] });
    const created = await call(service.app, 'post', '/admin/realms/alpha/users', { token, body: { username: 'from-master', credentials: [{ type: 'password', value: 'master pw 12345' }] } });
    expect(created.status).toBe(201);
    const found = await call(service.app, 'get', '/admin/realms/alpha/users?username=from-master&exact=true', { token });
    expect((found.body as { username: string }[]).map((user) => user.username)).toEqual(['from-master']);
    // The admin event names master's administrator.
    const events = await call(service.app, 'get', '/admin/realms/alpha/admin-events?operationTypes=CREATE', { token: await masterToken({ 'alpha-realm': ['view-events'] }) });
    expect(events.status).toBe(200);
    expect((events.body as { authDetails: { userId: string } }[])[0]?.authDetails.userId).toBe('master-admin');
  });

  it('read with view-users, and are refused writes with a 403 that names the role and the client', async () => {
    const viewer = await masterToken({ 'alpha-realm': ['view-users'] });
    expect((await call(service.app, 'get', '/admin/realms/alpha/users', { token: viewer })).status).toBe(200);
    const res = await call(service.app, 'post', '/admin/realms/alpha/users', { token: viewer, body: { username: 'nope' } });
    expectError(res, 403, 'insufficient_scope', 'error');
    expect(description(res)).toBe('The token lacks the role "manage-users" (a client role of alpha-realm in realm master) that this admin request needs.');
  });

  it('without rights on this realm get 403, even with rights on another realm or an admin role elsewhere', async () => {
    for (const token of [
      await masterToken({ 'beta-realm': ['manage-users'] }),
      // realm-management is the realm's own client; master's administrators have none there.
      await masterToken({ 'realm-management': ['manage-users'] }),
      // Keycloak reads client roles of <realm>-realm only; master's `admin` role counts through the roles it includes.
      await masterToken({}, ['admin', 'manage-users']),
    ]) {
      const res = await call(service.app, 'get', '/admin/realms/alpha/users', { token });
      expectError(res, 403, 'insufficient_scope', 'error');
      expect(description(res)).toBe('The token is an administrator\'s of realm master without rights on realm alpha: it has no client roles of alpha-realm (this request needs "view-users").');
    }
  });

  it("are verified against master's own keys: a token claiming master but signed by another key is 401", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sub: 'master-admin', typ: 'Bearer', resource_access: { 'alpha-realm': { roles: ['manage-users'] } } })
      .setProtectedHeader({ alg: 'RS256', kid: idp.currentKid, typ: 'JWT' })
      .setIssuer(idp.issuerOf('master'))
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const res = await call(service.app, 'get', '/admin/realms/alpha/users', { token: forged });
    expectError(res, 401, 'invalid_token', 'error');
    expect(description(res)).toBe('The token signature is not valid.');
  });

  it('are refused where the admin realm is another one, or none, with the reason', async () => {
    const token = await masterToken({ 'gamma-realm': ['manage-users'], 'delta-realm': ['manage-users'] });
    for (const realm of ['gamma', 'delta']) {
      const res = await call(service.app, 'get', `/admin/realms/${realm}/users`, { token });
      expectError(res, 401, 'invalid_token', 'error');
      expect(description(res)).toBe(`The token was issued by realm master, which may not administer realm ${realm}.`);
    }
    const ops = await idp.sign({ sub: 'ops-admin', resource_access: { 'gamma-realm': { roles: ['view-users'] } } }, { realm: 'ops' });
    expect((await call(service.app, 'get', '/admin/realms/gamma/users', { token: ops })).status).toBe(200);
  });

  it('of the master realm itself hold their rights on it in master-realm', async () => {
    const token = await masterToken({ 'master-realm': ['view-users'] });
    expect((await call(service.app, 'get', '/admin/realms/master/users', { token })).status).toBe(200);
    const res = await call(service.app, 'get', '/admin/realms/master/users', { token: await masterToken({ 'realm-management': ['view-users'] }) });
    expectError(res, 403, 'insufficient_scope', 'error');
    expect(description(res)).toContain('a client role of master-realm');
  });
});

describe('lightweight access tokens', () => {
  it("are refused naming Keycloak's setting that gives full ones (they carry neither subject nor roles)", async () => {
    // What Keycloak 25+ issues to admin-cli by default: no sub, no realm_access, no resource_access.
    const lightweight = await idp.sign({ azp: 'admin-cli', sid: 'session-1', scope: 'profile email' }, { realm: 'master' });
    const res = await call(service.app, 'get', '/admin/realms/alpha/users', { token: lightweight });
    expectError(res, 401, 'invalid_token', 'error');
    expect(description(res)).toBe(
      'The token has no subject: a lightweight access token (Keycloak\'s admin-cli issues them by default) carries neither subject nor roles; turn off "Always use lightweight access token" (client.use.lightweight.access.token.enabled) on its client.',
    );
  });
});

describe('tokens of other realms', () => {
  it("are 401 at the admin API, naming the realm that issued them rather than a key", async () => {
    const beta = await idp.sign({ sub: 'beta-admin', resource_access: { 'realm-management': { roles: ['manage-users'] } } }, { realm: 'beta' });
    const res = await call(service.app, 'get', '/admin/realms/alpha/users', { token: beta });
    expectError(res, 401, 'invalid_token', 'error');
    expect(description(res)).toBe('The token was issued by realm beta, which may not administer realm alpha.');
    expect(res.headers['www-authenticate']).toContain('which may not administer realm alpha');
  });

  it("are 401 at the account API, naming the realm that issued them", async () => {
    const { id } = await service.createUser('olga', 'olga password 1');
    const master = await idp.sign({ sub: id }, { realm: 'master' });
    const res = await call(service.app, 'post', '/realms/alpha/password-resources/validate-password', { token: master, body: { password: 'olga password 1' } });
    expectError(res, 401, 'invalid_token', 'error');
    expect(description(res)).toBe('The token was issued by realm master, not by realm alpha.');
  });
});

describe('GET /admin/realms/{realm}', () => {
  it("answers view-realm with the realm's settings in Keycloak's field names, the SMTP password masked", async () => {
    const res = await call(service.app, 'get', '/admin/realms/alpha', { token: await masterToken({ 'alpha-realm': ['view-realm'] }) });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      id: 'alpha',
      realm: 'alpha',
      enabled: true,
      passwordPolicy: 'length(10) and notUsername',
      bruteForceProtected: true,
      permanentLockout: false,
      maxTemporaryLockouts: 0,
      maxFailureWaitSeconds: 600,
      minimumQuickLoginWaitSeconds: 60,
      waitIncrementSeconds: 60,
      quickLoginCheckMilliSeconds: 0,
      maxDeltaTimeSeconds: 43200,
      failureFactor: 1000,
      actionTokenGeneratedByAdminLifespan: 43200,
      actionTokenGeneratedByUserLifespan: 900,
      defaultLocale: 'en',
      smtpServer: { host: '127.0.0.1', port: '2525', from: 'no-reply@example.com', ssl: 'false', starttls: 'false', auth: 'true', user: 'mailer', password: '**********' },
    });
    expect(res.text).not.toContain(SMTP_SECRET);
  });

  it("answers the realm's own admins too, and manage-realm includes view-realm", async () => {
    const token = await idp.sign({ sub: 'beta-admin', resource_access: { 'realm-management': { roles: ['manage-realm'] } } }, { realm: 'beta' });
    const res = await call(service.app, 'get', '/admin/realms/beta', { token });
    expect(res.status).toBe(200);
    expect((res.body as { smtpServer: unknown; passwordPolicy: string }).smtpServer).toEqual({});
  });

  it('answers another admin role with the name alone, and no admin role with 403, as Keycloak', async () => {
    const nameOnly = await call(service.app, 'get', '/admin/realms/alpha', { token: await masterToken({ 'alpha-realm': ['view-users'] }) });
    expect({ status: nameOnly.status, body: nameOnly.body as unknown }).toEqual({ status: 200, body: { realm: 'alpha' } });
    const none = await call(service.app, 'get', '/admin/realms/alpha', { token: await idp.sign({ sub: 'someone' }) });
    expectError(none, 403, 'insufficient_scope', 'error');
    expect(description(none)).toContain('"view-realm"');
  });
});
