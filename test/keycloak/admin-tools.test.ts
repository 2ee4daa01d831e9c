import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
// Types only: the package is ESM, loaded below with import().
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client' with { 'resolution-mode': 'import' };
import type { AddressInfo } from 'node:net';
import { KEYCLOAK_ADMIN } from '../../scripts/keycloak';
import { expectContract } from '../helpers/contract';
import { ToolGateway } from '../helpers/gateway';
import { audienceMapper, KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

type Credentials = Parameters<KeycloakAdminClient['auth']>[0];

/**
 * Keycloak's own admin tools, unchanged, at our admin API: `kcadm.sh` from the
 * Keycloak distribution the tests run, and `@keycloak/keycloak-admin-client`
 * from npm. Each logs in at the real Keycloak, as master's bootstrap admin and
 * at the realm itself (a user, a service account), through one base URL where
 * a gateway sends Keycloak's token endpoint to Keycloak and `/admin/realms/*`
 * to the service. Every step is asserted on its effect in the service's store.
 */
const keycloak = KeycloakAdmin.fromEnv();
const realm = uniqueRealm('tools');
const AUDIENCE = 'password-resources';
const POLICY = 'length(10) and notUsername';
const SMTP_SECRET = 'tools smtp secret 1';
const REALM_ADMIN = { username: 'realm-admin', password: 'realm admin password 1' } as const;
const AUTOMATION = { clientId: 'automation', secret: 'automation-secret-1' } as const;
/** Master users: one who may only read the realm's users, one with no rights on it. */
const HELPDESK = { username: `helpdesk-${realm}`, password: 'helpdesk password 1' } as const;
const OUTSIDER = { username: `outsider-${realm}`, password: 'outsider password 1' } as const;
const FAILURE_FACTOR = 3;

const run = promisify(execFile);
const kcadmHome = process.env.KEYCLOAK_HOME ?? '';
const configDir = mkdtempSync(join(tmpdir(), 'kcadm-'));

/** One kcadm.sh command with its own config file (never ~/.keycloak), on the JVM's quick compiler. */
async function kcadm(config: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(join(kcadmHome, 'bin', 'kcadm.sh'), [...args, '--config', join(configDir, config)], {
      env: { PATH: process.env.PATH ?? '', HOME: configDir, ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}), KC_OPTS: '-XX:TieredStopAtLevel=1' },
      timeout: 90_000,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`kcadm.sh ${args[0] ?? ''} ${args[1] ?? ''} failed: ${stderr ?? ''} ${stdout ?? ''}`);
  }
}
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape kcadm.sh printed
const json = <T>(text: string): T => JSON.parse(text) as T;

let service: TestService;
let http: Server;
let gateway: ToolGateway;
const masterUsers: string[] = [];

const LIGHTWEIGHT = 'client.use.lightweight.access.token.enabled';

/** Turn Keycloak's lightweight access tokens of a client on or off (Keycloak's REST API, for set-up and clean-up). */
async function setLightweight(realmName: string, clientId: string, enabled: boolean): Promise<void> {
  const id = await keycloak.clientInternalId(realmName, clientId);
  const { body: client } = await keycloak.request<{ attributes?: Record<string, string> }>('GET', `/${realmName}/clients/${id}`);
  await keycloak.request('PUT', `/${realmName}/clients/${id}`, { ...client, attributes: { ...client.attributes, [LIGHTWEIGHT]: String(enabled) } });
}

/**
 * README's recipe, run as written with kcadm.sh logged in at Keycloak itself:
 * master's admin-cli issues full access tokens (subject, roles) instead of
 * Keycloak 25+'s lightweight ones, which only Keycloak can resolve.
 */
async function fullTokensForMasterAdminCli(): Promise<void> {
  const config = 'keycloak.config';
  await kcadm(config, 'config', 'credentials', '--server', keycloak.url, '--realm', 'master', '--user', KEYCLOAK_ADMIN.username, '--password', KEYCLOAK_ADMIN.password);
  const id = (await kcadm(config, 'get', 'clients', '-r', 'master', '-q', 'clientId=admin-cli', '--fields', 'id', '--format', 'csv', '--noquotes')).trim();
  await kcadm(config, 'update', `clients/${id}`, '-r', 'master', '-s', `attributes."${LIGHTWEIGHT}"=false`);
}

/** Keycloak's setup of the realm: admins of its own (a user, a service account), each with realm-management roles and our audience. */
async function setUpKeycloak(): Promise<void> {
  await keycloak.createRealm(realm);
  // Keycloak's tokens for the realm's own admin-cli name the service, so it takes them (OIDC_AUDIENCE), and carry the roles.
  await keycloak.request('POST', `/${realm}/clients/${await keycloak.clientInternalId(realm, 'admin-cli')}/protocol-mappers/models`, audienceMapper(AUDIENCE));
  await setLightweight(realm, 'admin-cli', false);
  // A client left with Keycloak 25+'s default for admin-cli: lightweight tokens (the audience included, so that only the subject is missing).
  await keycloak.createClient(realm, {
    clientId: 'lightweight-cli',
    publicClient: true,
    directAccessGrantsEnabled: true,
    attributes: { [LIGHTWEIGHT]: 'true' },
    protocolMappers: [{ ...audienceMapper(AUDIENCE), config: { ...(audienceMapper(AUDIENCE).config as Record<string, string>), 'lightweight.claim': 'true' } }],
  });
  const admin = await keycloak.createUser(realm, REALM_ADMIN);
  await keycloak.grantClientRoles(realm, admin, 'realm-management', ['manage-users', 'view-realm']);
  const automation = await keycloak.createClient(realm, {
    clientId: AUTOMATION.clientId,
    publicClient: false,
    secret: AUTOMATION.secret,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    protocolMappers: [audienceMapper(AUDIENCE)],
  });
  await keycloak.grantRealmManagement(realm, automation, ['manage-users', 'view-realm']);
  const helpdesk = await keycloak.createUser('master', HELPDESK);
  masterUsers.push(helpdesk, await keycloak.createUser('master', OUTSIDER));
  // Master's rights on the realm are roles of master's `<realm>-realm` client.
  await keycloak.grantClientRoles('master', helpdesk, `${realm}-realm`, ['view-users']);
}

beforeAll(async () => {
  await setUpKeycloak();
  await fullTokensForMasterAdminCli();
  service = await startTestService('keycloak-admin-tools', {
    realms: {
      [realm]: {
        issuer: keycloak.issuerOf(realm),
        audience: AUDIENCE,
        passwordPolicy: POLICY,
        bruteForce: { failureFactor: FAILURE_FACTOR, quickLoginCheckMilliSeconds: 0 },
        smtp: { host: '127.0.0.1', port: 2525, from: 'no-reply@example.com', auth: true, user: 'mailer', password: SMTP_SECRET },
      },
    },
  });
  http = createServer(service.app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  gateway = await ToolGateway.start(keycloak.url, `http://127.0.0.1:${(http.address() as AddressInfo).port}`);
});
afterAll(async () => {
  await gateway.stop();
  await new Promise((resolve) => http.close(resolve));
  await service.close();
  await keycloak.deleteRealm(realm);
  // Master's admin-cli as it was (Keycloak's default), for the other files on this Keycloak.
  await setLightweight('master', 'admin-cli', true);
  for (const id of masterUsers) await keycloak.request('DELETE', `/master/users/${id}`);
  rmSync(configDir, { recursive: true, force: true });
});

// Every answer the tools got from the service holds to openapi.yaml (kcadm.sh's too, which no fetch hook sees), and only the token endpoint went to Keycloak.
afterEach(() => {
  for (const answer of gateway.answers.splice(0)) {
    const json = String(answer.headers['content-type']).startsWith('application/json');
    const res = { status: answer.status, headers: answer.headers, text: answer.text, body: json ? (JSON.parse(answer.text) as unknown) : {} };
    expectContract(answer.method, answer.path, res);
  }
  const toKeycloak = gateway.routed.splice(0).filter((line) => line.endsWith('-> keycloak'));
  for (const line of toKeycloak) expect(line).toMatch(/^POST \/realms\/[^/]+\/protocol\/openid-connect\/token -> keycloak$/);
});

async function stored(username: string) {
  return service.resources.accounts.findByUsername(realm, username);
}

/** The user as the service keeps them; fails when absent. */
async function storedUser(username: string) {
  const user = await stored(username);
  if (!user) throw new Error(`${username} is not in the service's store`);
  return user;
}

/** Keycloak's own users of that name: the tools must have talked to the service, never to Keycloak's admin API. */
async function inKeycloak(username: string): Promise<number> {
  return (await keycloak.request<unknown[]>('GET', `/${realm}/users?username=${encodeURIComponent(username)}&exact=true`)).body.length;
}

async function validates(username: string, password: string): Promise<boolean> {
  return service.resources.accounts.validatePassword(await storedUser(username), password);
}

/** Wrong passwords until the user is locked (Keycloak's count: the failureFactor-th failure locks). */
async function lockOut(username: string): Promise<void> {
  for (let i = 0; i < FAILURE_FACTOR; i++) await validates(username, `wrong password ${i}`).catch(() => false);
}

interface BruteForce {
  numFailures: number;
  disabled: boolean;
}

describe("Keycloak's lightweight access tokens", () => {
  it('are refused with the setting that gives full ones, since they carry neither subject nor roles', async () => {
    const { access_token: token } = await keycloak.login(realm, 'lightweight-cli', REALM_ADMIN.username, REALM_ADMIN.password);
    const res = await fetch(`${gateway.url}/admin/realms/${realm}/users`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error_description: string }).error_description).toBe(
      'The token has no subject: a lightweight access token (Keycloak\'s admin-cli issues them by default) carries neither subject nor roles; turn off "Always use lightweight access token" (client.use.lightweight.access.token.enabled) on its client.',
    );
  });
});

describe('kcadm.sh', () => {

  describe("as master's admin (kcadm.sh config credentials --realm master --user admin)", () => {
    const config = 'master.config';
    let id = '';

    it('logs in at master through the gateway', async () => {
      await kcadm(config, 'config', 'credentials', '--server', gateway.url, '--realm', 'master', '--user', KEYCLOAK_ADMIN.username, '--password', KEYCLOAK_ADMIN.password);
      expect(gateway.routed).toContain('POST /realms/master/protocol/openid-connect/token -> keycloak');
    });

    it('creates a user in the service (create users -i), not in Keycloak', async () => {
      id = (
        await kcadm(config, 'create', 'users', '-r', realm, '-s', 'username=kc-ann', '-s', 'enabled=true', '-s', 'email=kc-ann@example.com', '-s', 'firstName=Ann',
          '-s', 'credentials=[{"type":"password","value":"ann password 1","temporary":false}]', '-i')
      ).trim();
      const user = await storedUser('kc-ann');
      expect({ id: user.id, email: user.email, firstName: user.firstName }).toEqual({ id, email: 'kc-ann@example.com', firstName: 'Ann' });
      expect(await validates('kc-ann', 'ann password 1')).toBe(true);
      expect(await inKeycloak('kc-ann')).toBe(0);
    });

    it('finds and counts (get users -q, get users/count)', async () => {
      const found = json<{ id: string; username: string }[]>(await kcadm(config, 'get', 'users', '-r', realm, '-q', 'username=kc-ann'));
      expect(found.map((user) => [user.id, user.username])).toEqual([[id, 'kc-ann']]);
      const count = Number((await kcadm(config, 'get', 'users/count', '-r', realm)).trim());
      expect(count).toBe(await service.resources.admin.countUsers(realm, {}));
    });

    it('updates (update users/ID -s)', async () => {
      await kcadm(config, 'update', `users/${id}`, '-r', realm, '-s', 'firstName=Annie', '-s', 'lastName=Tester');
      const user = await storedUser('kc-ann');
      expect({ firstName: user.firstName, lastName: user.lastName, email: user.email }).toEqual({ firstName: 'Annie', lastName: 'Tester', email: 'kc-ann@example.com' });
    });

    it('sets a temporary password (set-password --temporary), which the user must change', async () => {
      await kcadm(config, 'set-password', '-r', realm, '--username', 'kc-ann', '--new-password', 'ann temporary 2', '--temporary');
      expect(await validates('kc-ann', 'ann temporary 2')).toBe(true);
      expect(await validates('kc-ann', 'ann password 1')).toBe(false);
      expect(service.resources.accounts.requiredActionsOf(await storedUser('kc-ann'))).toContain('UPDATE_PASSWORD');
    });

    it('reads the credentials (get users/ID/credentials)', async () => {
      const credentials = json<{ type: string; temporary: boolean }[]>(await kcadm(config, 'get', `users/${id}/credentials`, '-r', realm));
      expect(credentials.map(({ type, temporary }) => ({ type, temporary }))).toEqual([{ type: 'password', temporary: true }]);
    });

    it('reads and clears a lockout (get, delete attack-detection/brute-force/users/ID)', async () => {
      await lockOut('kc-ann');
      const locked = json<BruteForce>(await kcadm(config, 'get', `attack-detection/brute-force/users/${id}`, '-r', realm));
      expect({ numFailures: locked.numFailures, disabled: locked.disabled }).toEqual({ numFailures: FAILURE_FACTOR, disabled: true });
      await kcadm(config, 'delete', `attack-detection/brute-force/users/${id}`, '-r', realm);
      const cleared = json<BruteForce>(await kcadm(config, 'get', `attack-detection/brute-force/users/${id}`, '-r', realm));
      expect({ numFailures: cleared.numFailures, disabled: cleared.disabled }).toEqual({ numFailures: 0, disabled: false });
      expect(await validates('kc-ann', 'ann temporary 2')).toBe(true);
    });

    it('reads the realm (get realms/R): policy, brute force, SMTP with its password masked', async () => {
      const text = await kcadm(config, 'get', `realms/${realm}`);
      expect(json<Record<string, unknown>>(text)).toMatchObject({
        realm,
        passwordPolicy: POLICY,
        bruteForceProtected: true,
        failureFactor: FAILURE_FACTOR,
        smtpServer: { host: '127.0.0.1', port: '2525', auth: 'true', user: 'mailer', password: '**********' },
      });
      expect(text).not.toContain(SMTP_SECRET);
    });

    it('deletes (delete users/ID)', async () => {
      await kcadm(config, 'delete', `users/${id}`, '-r', realm);
      expect(await stored('kc-ann')).toBeNull();
    });
  });

  describe('at the realm itself', () => {
    it('as a user with realm-management roles (config credentials --realm R --user)', async () => {
      const config = 'realm-user.config';
      await kcadm(config, 'config', 'credentials', '--server', gateway.url, '--realm', realm, '--user', REALM_ADMIN.username, '--password', REALM_ADMIN.password);
      const id = (await kcadm(config, 'create', 'users', '-r', realm, '-s', 'username=kc-bob', '-s', 'enabled=true', '-i')).trim();
      expect((await storedUser('kc-bob')).id).toBe(id);
      await kcadm(config, 'set-password', '-r', realm, '--username', 'kc-bob', '--new-password', 'bob password 12');
      expect(await validates('kc-bob', 'bob password 12')).toBe(true);
      expect(JSON.parse(await kcadm(config, 'get', `realms/${realm}`))).toMatchObject({ realm, passwordPolicy: POLICY });
      await kcadm(config, 'delete', `users/${id}`, '-r', realm);
      expect(await stored('kc-bob')).toBeNull();
    });

    it('as a service account (config credentials --realm R --client --secret)', async () => {
      const config = 'service-account.config';
      await kcadm(config, 'config', 'credentials', '--server', gateway.url, '--realm', realm, '--client', AUTOMATION.clientId, '--secret', AUTOMATION.secret);
      const id = (await kcadm(config, 'create', 'users', '-r', realm, '-s', 'username=kc-cid', '-s', 'enabled=true', '-i')).trim();
      const found = JSON.parse(await kcadm(config, 'get', 'users', '-r', realm, '-q', 'username=kc-cid')) as { id: string }[];
      expect(found.map((user) => user.id)).toEqual([id]);
      await kcadm(config, 'delete', `users/${id}`, '-r', realm);
      expect(await stored('kc-cid')).toBeNull();
    });
  });
});

describe('@keycloak/keycloak-admin-client', () => {
  /** The npm client, ESM-only: loaded with import(), as jest allows under --experimental-vm-modules. */
  async function client(realmName: string, credentials: Credentials): Promise<KeycloakAdminClient> {
    const { default: KcAdminClient } = await import('@keycloak/keycloak-admin-client');
    const kc = new KcAdminClient({ baseUrl: gateway.url, realmName });
    await kc.auth(credentials);
    // Then every call is about the realm, as a script for any realm does.
    kc.setConfig({ realmName: realm });
    return kc;
  }

  /** The status and description of the client's failed call. */
  async function refusal(call: Promise<unknown>): Promise<{ status: number | undefined; description: unknown }> {
    const error = await call.then(
      () => undefined,
      (thrown: unknown) => thrown as { response?: { status: number }; responseData?: { error_description?: unknown } },
    );
    return { status: error?.response?.status, description: error?.responseData?.error_description };
  }

  /** The whole list, on one client; `prefix` keeps each login's users apart. */
  async function wholeList(kc: KeycloakAdminClient, prefix: string): Promise<void> {
    const username = `${prefix}-dana`;
    // create
    const { id } = await kc.users.create({ username, enabled: true, email: `${username}@example.com`, credentials: [{ type: 'password', value: 'dana password 1', temporary: false }] });
    expect((await storedUser(username)).id).toBe(id);
    expect(await inKeycloak(username)).toBe(0);
    // find, count
    expect((await kc.users.find({ username, exact: true })).map((user) => user.id)).toEqual([id]);
    expect(await kc.users.count()).toBe(await service.resources.admin.countUsers(realm, {}));
    // update
    await kc.users.update({ id }, { firstName: 'Dana', lastName: 'Tester' });
    expect((await storedUser(username)).firstName).toBe('Dana');
    // temporary reset
    await kc.users.resetPassword({ id, credential: { type: 'password', value: 'dana temporary 2', temporary: true } });
    expect(await validates(username, 'dana temporary 2')).toBe(true);
    expect(service.resources.accounts.requiredActionsOf(await storedUser(username))).toContain('UPDATE_PASSWORD');
    // credentials
    expect((await kc.users.getCredentials({ id })).map(({ type, temporary }) => ({ type, temporary }))).toEqual([{ type: 'password', temporary: true }]);
    // brute force
    await lockOut(username);
    expect(await kc.attackDetection.findOne({ id })).toMatchObject({ numFailures: FAILURE_FACTOR, disabled: true });
    await kc.attackDetection.del({ id });
    expect(await kc.attackDetection.findOne({ id })).toMatchObject({ numFailures: 0, disabled: false });
    expect(await validates(username, 'dana temporary 2')).toBe(true);
    // realm read
    expect(await kc.realms.findOne({ realm })).toMatchObject({ realm, passwordPolicy: POLICY, failureFactor: FAILURE_FACTOR, smtpServer: { password: '**********' } });
    // delete
    await kc.users.del({ id });
    expect(await stored(username)).toBeNull();
  }

  it("completes the list as master's admin (the client's default realmName: 'master')", async () => {
    await wholeList(await client('master', { grantType: 'password', clientId: 'admin-cli', username: KEYCLOAK_ADMIN.username, password: KEYCLOAK_ADMIN.password }), 'master');
  });

  it('completes the list as a service account of the realm (client_credentials)', async () => {
    await wholeList(await client(realm, { grantType: 'client_credentials', clientId: AUTOMATION.clientId, clientSecret: AUTOMATION.secret }), 'service');
  });

  it('completes the list as a user of the realm with realm-management roles', async () => {
    await wholeList(await client(realm, { grantType: 'password', clientId: 'admin-cli', username: REALM_ADMIN.username, password: REALM_ADMIN.password }), 'user');
  });

  it("gives a master user only the rights master gives them on the realm: 403 beyond them", async () => {
    const helpdesk = await client('master', { grantType: 'password', clientId: 'admin-cli', username: HELPDESK.username, password: HELPDESK.password });
    expect(await helpdesk.users.find({ max: 1 })).toEqual(expect.any(Array));
    expect(await refusal(helpdesk.users.create({ username: 'not-by-helpdesk', enabled: true }))).toEqual({
      status: 403,
      description: `The token lacks the role "manage-users" (a client role of ${realm}-realm in realm master) that this admin request needs.`,
    });
    // view-users is an admin role: the realm's name, as Keycloak answers it.
    expect(await helpdesk.realms.findOne({ realm })).toEqual({ realm });
    const outsider = await client('master', { grantType: 'password', clientId: 'admin-cli', username: OUTSIDER.username, password: OUTSIDER.password });
    expect(await refusal(outsider.users.find())).toEqual({
      status: 403,
      description: `The token is an administrator's of realm master without rights on realm ${realm}: it has no client roles of ${realm}-realm (this request needs "view-users").`,
    });
    expect(await stored('not-by-helpdesk')).toBeNull();
  });
});
