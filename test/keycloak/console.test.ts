import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApp } from '../../src/app';
import { freePort } from '../../src/db/mongo-server';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources } from '../../src/index';
import { CONSOLE_ADMIN_ROLES, consoleClient, DEMO } from '../../examples/keycloak-demo';
import { ConsoleWatch } from '../helpers/console';
import { testDatabaseUri } from '../helpers/db';
import { audienceMapper, KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';
import { KEYCLOAK_ADMIN } from '../../scripts/keycloak';
import { TestSmtpServer } from '../helpers/smtp';

/**
 * The admin console in Chromium against a real Keycloak: administrators sign
 * in at Keycloak (authorization code with PKCE) and manage the users whose
 * passwords the service keeps; what they do is checked where it lands (the
 * user's own validate-password, the SMTP server, the lockout state), and every
 * call the console makes is held against openapi.yaml.
 */
const keycloak = KeycloakAdmin.fromEnv();
const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'screenshots');
const realm = uniqueRealm('console');
const AUDIENCE = DEMO.audience;
const POLICY = 'length(12) and digits(1) and notUsername';
/** A public client with direct grants, for the users' own tokens (the account API's callers). */
const USERS_CLIENT = 'console-tests-users';
const FAILURE_FACTOR = 3;
const PASSWORD = (username: string): string => `${username} keycloak password 1`;
const ADMIN = 'ada-admin';
/** A realm administered from master, and the console's client in master for it. */
const managed = uniqueRealm('console-master');
const MASTER_CLIENT = `password-resources-console-${managed}`;
const VIEWER = 'vic-viewer';

let smtp: TestSmtpServer;
let resources: PasswordResources;
let service: Server;
let serviceUrl: string;
const consoleUrlOf = (name: string): string => `${serviceUrl}/admin/console/${name}/`;
let browser: Browser;
let watch: ConsoleWatch;
/** The full administrator's page, signed in once and reused. */
let admin: { context: BrowserContext; page: Page };
const ids: Record<string, string> = {};

/** A user in Keycloak (to sign in, or for their own tokens) and, unless an administrator, in the service's store with Keycloak's id. */
async function twinUser(username: string, inStore = true): Promise<string> {
  const id = await keycloak.createUser(realm, { username, password: PASSWORD(username) });
  if (inStore) await resources.accounts.createUser({ realm, id, username, email: `${username}@example.com`, password: `${username} first password 1` });
  ids[username] = id;
  return id;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
}

/** Keycloak's login form, filled and sent. */
async function logInAtKeycloak(page: Page, username: string, password: string): Promise<void> {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
}

interface SignIn {
  readonly viewport?: { width: number; height: number };
  readonly screenshots?: boolean;
  /** The console of this realm (default: the test's realm). */
  readonly consoleOf?: string;
  /** Where the administrator signs in, with their client (default: the realm itself, the console's client). */
  readonly at?: { realm: string; clientId: string };
  readonly password?: string;
}

/** A fresh browser context on the console, signed in as `username` at Keycloak. */
async function signIn(username: string, options: SignIn = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1100, height: 720 } });
  // Keycloak and the console answer in well under a second here: a missing element fails in seconds, not half a minute.
  context.setDefaultTimeout(15_000);
  watch.watch(context);
  const page = await context.newPage();
  const url = consoleUrlOf(options.consoleOf ?? realm);
  const at = options.at ?? { realm, clientId: DEMO.consoleClient };
  await page.goto(url);
  const signInButton = page.getByRole('button', { name: 'Sign in' });
  await signInButton.waitFor();
  if (options.screenshots === true) await shot(page, 'sign-in');
  await signInButton.click();
  await page.waitForURL((next) => next.href.startsWith(`${keycloak.issuerOf(at.realm)}/protocol/openid-connect/auth`));
  const request = new URL(page.url()).searchParams;
  expect({ client: request.get('client_id'), method: request.get('code_challenge_method'), redirect: request.get('redirect_uri') }).toEqual({
    client: at.clientId,
    method: 'S256',
    redirect: url,
  });
  if (options.screenshots === true) await shot(page, 'keycloak-login');
  await logInAtKeycloak(page, username, options.password ?? PASSWORD(username));
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return { context, page };
}

/** The console's navigation, by its accessible names. */
const nav = (page: Page) => page.getByRole('navigation', { name: 'Console' });

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  smtp = await TestSmtpServer.start();
  const port = await freePort();
  serviceUrl = `http://127.0.0.1:${port}`;
  await keycloak.createRealm(realm);
  await keycloak.createClient(realm, consoleClient(consoleUrlOf(realm)));
  // Master's administrators, at a realm whose console signs them in at master (its client there is this run's own).
  await keycloak.createRealm(managed);
  await keycloak.createClient('master', consoleClient(consoleUrlOf(managed), MASTER_CLIENT));
  await keycloak.createClient(realm, { clientId: USERS_CLIENT, publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false, protocolMappers: [audienceMapper(AUDIENCE)] });
  resources = createPasswordResources({
    mongodbUri: testDatabaseUri('keycloak-console'),
    logger: pino({ level: 'silent' }),
    publicUrl: serviceUrl,
    realms: {
      [realm]: {
        issuer: keycloak.issuerOf(realm),
        audience: AUDIENCE,
        passwordPolicy: POLICY,
        credentialStore: 'mongodb',
        // Locked after FAILURE_FACTOR wrong passwords, for longer than the run: only an unlock ends it.
        bruteForce: { failureFactor: FAILURE_FACTOR, waitIncrementSeconds: 900, maxFailureWaitSeconds: 900, quickLoginCheckMilliSeconds: 0 },
        smtp: smtp.settings(),
        console: { clientId: DEMO.consoleClient },
      },
      [managed]: { issuer: keycloak.issuerOf(managed), audience: AUDIENCE, credentialStore: 'mongodb', console: { clientId: MASTER_CLIENT, issuer: keycloak.issuerOf('master') } },
    },
  });
  await resources.ready();
  for (const username of ['olga', 'lena', 'ralf', 'gina']) await twinUser(username);
  await keycloak.grantClientRoles(realm, await twinUser(ADMIN, false), 'realm-management', CONSOLE_ADMIN_ROLES);
  await keycloak.grantClientRoles(realm, await twinUser(VIEWER, false), 'realm-management', ['view-users']);
  service = createServer(createApp(resources, pino({ level: 'silent' })));
  await new Promise<void>((resolve) => service.listen(port, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  watch = new ConsoleWatch(serviceUrl);
}, 120_000);

afterAll(async () => {
  // Each step on its own, so that one failing (or never started) leaves none of the others running.
  const steps: (() => Promise<unknown>)[] = [
    async () => browser.close(),
    async () => {
      service.closeAllConnections();
      await new Promise((resolve) => service.close(resolve));
    },
    async () => resources.close(),
    async () => smtp.stop(),
    async () => keycloak.deleteRealm(realm),
    async () => keycloak.deleteRealm(managed),
    async () => keycloak.request('DELETE', `/master/clients/${await keycloak.clientInternalId('master', MASTER_CLIENT)}`),
  ];
  const failures = (await Promise.allSettled(steps.map((step) => step()))).filter((result) => result.status === 'rejected');
  if (failures.length > 0) throw (failures[0] as PromiseRejectedResult).reason;
});

describe('the admin console, in Chromium against Keycloak', () => {
  it('signs an administrator in at Keycloak with PKCE and offers the Users, Events and Email pages', async () => {
    admin = await signIn(ADMIN, { screenshots: true });
    for (const name of ['Users', 'Events', 'Email']) await expect(nav(admin.page).getByRole('link', { name }).isVisible()).resolves.toBe(true);
  });

  it('finds a user by username and by email', async () => {
    const { page } = admin;
    await nav(page).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const search = page.getByRole('searchbox', { name: 'Search users' });
    const table = page.getByRole('grid', { name: 'Users' });
    await search.fill('olg');
    await page.getByRole('button', { name: 'Search' }).click();
    await table.getByRole('link', { name: 'olga', exact: true }).waitFor();
    await expect(table.getByRole('link', { name: 'lena', exact: true }).count()).resolves.toBe(0);
    await search.fill('lena@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await table.getByRole('link', { name: 'lena', exact: true }).waitFor();
    await expect(table.getByRole('link', { name: 'olga', exact: true }).count()).resolves.toBe(0);
    await search.fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await table.getByRole('link', { name: 'olga', exact: true }).waitFor();
    await shot(page, 'users');
  });

  it('shows a view-only administrator the users without their actions', async () => {
    const { context, page } = await signIn(VIEWER);
    await nav(page).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('grid', { name: 'Users' }).getByRole('link', { name: 'olga', exact: true }).waitFor();
    await expect(page.getByRole('button', { name: 'Create user', exact: true }).count()).resolves.toBe(0);
    await shot(page, 'view-only-users');
    await context.close();
  });
  it('works on a narrow screen: the navigation is reachable and nothing scrolls sideways', async () => {
    const { context, page } = await signIn(ADMIN, { viewport: { width: 390, height: 844 } });
    const users = nav(page).getByRole('link', { name: 'Users' });
    if (!(await users.isVisible())) await page.getByRole('button', { name: 'Menu' }).click();
    await users.click();
    await page.getByRole('grid', { name: 'Users' }).getByRole('link', { name: 'olga', exact: true }).waitFor();
    await expect(page.evaluate<number>('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(390);
    await shot(page, 'narrow');
    await context.close();
  });

  it("lets Keycloak's master administrators in, signed in at master, with their rights on the realm", async () => {
    const id = await keycloak.createUser(managed, { username: 'mira', password: PASSWORD('mira') });
    await resources.accounts.createUser({ realm: managed, id, username: 'mira', email: 'mira@example.com', password: 'mira first password 1' });
    // The bootstrap admin: master's `admin` role holds every `<realm>-realm` role.
    const { context, page } = await signIn(KEYCLOAK_ADMIN.username, { consoleOf: managed, at: { realm: 'master', clientId: MASTER_CLIENT }, password: KEYCLOAK_ADMIN.password });
    await nav(page).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('grid', { name: 'Users' }).getByRole('link', { name: 'mira', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Create user' }).waitFor();
    await shot(page, 'master-admin');
    await context.close();
  });

  it('signs out at Keycloak and comes back to the console signed out', async () => {
    const { page, context } = admin;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.href.startsWith(consoleUrlOf(realm)));
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // Keycloak's session is over: signing in asks for the password again.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#password').waitFor();
    await context.close();
  });

  // Their answers are held against openapi.yaml after each test (test/helpers/contract-hook.ts).
  it('made only calls that openapi.yaml documents, with no CSP violation or page error', () => {
    expect(watch.problems).toEqual([]);
    // Every kind of call the tests above made the console make.
    expect(watch.operations()).toEqual(
      expect.arrayContaining(['GET /admin/realms/{realm}/users']),
    );
  });
});
