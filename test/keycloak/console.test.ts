import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { createApp } from '../../src/app';
import { freePort } from '../../src/db/mongo-server';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources } from '../../src/index';
import { CONSOLE_ADMIN_ROLES, consoleClient, DEMO } from '../../examples/keycloak-demo';
import { ConsoleWatch } from '../helpers/console';
import { testDatabaseUri } from '../helpers/db';
import { audienceMapper, KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';
import { KEYCLOAK_ADMIN } from '../../scripts/keycloak';
import { linkIn, TestSmtpServer } from '../helpers/smtp';

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
const ACCESS_TOKEN_SECONDS = 75;
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
/** The administrator's page's refresh-token grants at Keycloak, and the bearer tokens it sent the admin API. */
const renewals: number[] = [];
const bearers = new Set<string>();
const ids: Record<string, string> = {};

/** A user in Keycloak (to sign in, or for their own tokens) and, unless an administrator, in the service's store with Keycloak's id. */
async function twinUser(username: string, inStore = true): Promise<string> {
  const id = await keycloak.createUser(realm, { username, password: PASSWORD(username) });
  const name = { firstName: username.charAt(0).toUpperCase() + username.slice(1), lastName: 'Tester' };
  if (inStore) await resources.accounts.createUser({ realm, id, username, email: `${username}@example.com`, ...name, password: `${username} first password 1` });
  ids[username] = id;
  return id;
}

/** The user's own validate-password, with a token Keycloak issued them just now. */
async function validate(username: string, password: string): Promise<{ status: number; body: unknown }> {
  const { access_token: token } = await keycloak.login(realm, USERS_CLIENT, username, PASSWORD(username));
  const res = await fetch(`${serviceUrl}/realms/${realm}/password-resources/validate-password`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ password }),
  });
  return { status: res.status, body: JSON.parse(await res.text()) as unknown };
}

/** Tokens of the second of a password change are refused (design.md, revocation): sign in from the next second on. */
async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_100 - (Date.now() % 1_000)));
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

/** The Events table. */
const eventsTable = (page: Page) => page.getByRole('table', { name: 'Events' });

/** A dialog's own Close: the dialog goes. */
async function closeDialog(dialog: Locator): Promise<void> {
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** The console's navigation, by its accessible names. */
const nav = (page: Page) => page.getByRole('navigation', { name: 'Console' });

/** A user's page, found through the search on the Users page. */
async function openUser(page: Page, username: string): Promise<void> {
  await nav(page).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('searchbox', { name: 'Search users' }).fill(username);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('grid', { name: 'Users' }).getByRole('link', { name: username, exact: true }).click();
  await page.getByRole('heading', { name: username, exact: true }).waitFor();
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  smtp = await TestSmtpServer.start();
  const port = await freePort();
  serviceUrl = `http://127.0.0.1:${port}`;
  // Access tokens live 75 s: oidc-client-ts renews them 60 s before they expire, so 15 s after sign-in, during the run.
  await keycloak.createRealm(realm, { accessTokenLifespan: ACCESS_TOKEN_SECONDS });
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
        // Where a password-change ticket may send the user afterwards.
        clients: { 'account-console': { redirectUris: ['https://app.example/*'] } },
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

// A test that fails with a dialog open leaves the page inert: close it, so the next test starts on a usable page.
afterEach(async () => {
  // Unset until the first test has signed in.
  const page = (admin as typeof admin | undefined)?.page;
  if (page === undefined || page.isClosed()) return;
  const close = page.getByRole('dialog').or(page.getByRole('alertdialog')).getByRole('button', { name: /^(Close|Cancel)$/ });
  if ((await close.count()) > 0) await close.first().click();
});

describe('the admin console, in Chromium against Keycloak', () => {
  it('signs an administrator in at Keycloak with PKCE and offers the Users, Events and Email pages', async () => {
    admin = await signIn(ADMIN, { screenshots: true });
    admin.context.on('request', (request) => {
      const url = request.url();
      const grant = new URLSearchParams(request.postData() ?? '').get('grant_type');
      if (url === `${keycloak.issuerOf(realm)}/protocol/openid-connect/token` && grant === 'refresh_token') renewals.push(Date.now());
      const bearer = request.headers().authorization;
      if (url.startsWith(`${serviceUrl}/admin/realms/`) && bearer !== undefined) bearers.add(bearer);
    });
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
    await table.getByRole('link', { name: 'lena', exact: true }).waitFor({ state: 'detached' });
    await table.getByRole('link', { name: 'olga', exact: true }).waitFor();
    await search.fill('lena@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await table.getByRole('link', { name: 'olga', exact: true }).waitFor({ state: 'detached' });
    await table.getByRole('link', { name: 'lena', exact: true }).waitFor();
    await search.fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await table.getByRole('link', { name: 'olga', exact: true }).waitFor();
    await shot(page, 'users');
  });

  it('is usable from the keyboard: search with Enter, open a user from the table, change tabs with the arrow keys', async () => {
    const { page } = admin;
    await nav(page).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('searchbox', { name: 'Search users' }).fill('');
    await page.getByRole('searchbox', { name: 'Search users' }).focus();
    await page.keyboard.type('olga');
    await page.keyboard.press('Enter');
    const table = page.getByRole('grid', { name: 'Users' });
    await table.getByRole('link', { name: 'lena', exact: true }).waitFor({ state: 'detached' });
    const focused = (): Promise<string> => page.evaluate<string>("document.activeElement?.textContent ?? ''");
    // From the search box: its button, then the table's first row.
    for (let presses = 0; presses < 10 && !(await focused()).startsWith('olga'); presses++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'olga', exact: true }).waitFor();
    await page.getByRole('tab', { name: 'Details' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('tab', { name: 'Credentials' }).getAttribute('aria-selected')).resolves.toBe('true');
    await page.getByRole('heading', { name: 'Password rules' }).waitFor();
  });

  it("creates a user, then edits their name, required actions, attributes and enabled, kept as saved", async () => {
    const { page } = admin;
    await nav(page).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Create user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create user' });
    await dialog.getByLabel('Username').fill('nora');
    await dialog.getByLabel('Email').fill('nora@example.com');
    await dialog.getByLabel('First name').fill('Nora');
    await dialog.getByLabel('Last name').fill('Novak');
    await expect(dialog.getByRole('switch', { name: 'Enabled' }).isChecked()).resolves.toBe(true);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'nora', exact: true }).waitFor();

    await page.getByLabel('First name').fill('Norah');
    await page.getByRole('checkbox', { name: 'Update password' }).check();
    await page.getByRole('button', { name: 'Add attribute' }).click();
    await page.getByLabel('Attribute name').fill('department');
    await page.getByLabel('Attribute value').fill('sales');
    await page.getByRole('switch', { name: 'Enabled' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'The user was saved.' }).waitFor();
    await shot(page, 'user-saved');

    // Read again from the service.
    await openUser(page, 'nora');
    await expect(page.getByLabel('First name').inputValue()).resolves.toBe('Norah');
    await expect(page.getByLabel('Last name').inputValue()).resolves.toBe('Novak');
    await expect(page.getByRole('checkbox', { name: 'Update password' }).isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('Attribute value').inputValue()).resolves.toBe('sales');
    await expect(page.getByRole('switch', { name: 'Enabled' }).isChecked()).resolves.toBe(false);
  });

  it("sets a temporary password, every broken rule shown at once; the user's validate-password then says UPDATE_PASSWORD", async () => {
    const { page } = admin;
    await openUser(page, 'olga');
    await shot(page, 'user-details');
    await page.getByRole('tab', { name: 'Credentials' }).click();
    await page.getByRole('heading', { name: 'Password rules' }).waitFor();
    await page.getByRole('button', { name: 'Reset password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reset password' });
    await dialog.getByLabel('Password', { exact: true }).fill('olga');
    await dialog.getByLabel('Password confirmation', { exact: true }).fill('olga');
    await expect(dialog.getByRole('switch', { name: 'Temporary' }).isChecked()).resolves.toBe(true);
    await dialog.getByRole('button', { name: 'Save' }).click();
    // length(12), digits(1) and notUsername: all three at once.
    const violations = page.getByRole('list', { name: 'Violations' }).getByRole('listitem');
    await violations.first().waitFor();
    await expect(violations.count()).resolves.toBe(3);
    await shot(page, 'reset-password-violations');

    const temporary = 'olga temporary 42';
    await dialog.getByLabel('Password', { exact: true }).fill(temporary);
    await dialog.getByLabel('Password confirmation', { exact: true }).fill(temporary);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('status').filter({ hasText: 'The password was set. The user must change it at next sign-in.' }).waitFor();
    await shot(page, 'reset-password-set');
    await closeDialog(dialog);
    await nextSecond();
    expect(await validate('olga', temporary)).toEqual({ status: 200, body: { valid: true, requiredActions: ['UPDATE_PASSWORD'] } });
  });

  it('generates a password that meets the policy, shows it once with a copy button, and sets it', async () => {
    const { page, context } = admin;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: serviceUrl });
    await openUser(page, 'gina');
    await page.getByRole('tab', { name: 'Credentials' }).click();
    await page.getByRole('button', { name: 'Reset password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reset password' });
    await dialog.getByRole('button', { name: 'Generate password' }).click();
    const shown = dialog.getByRole('region', { name: 'Generated password' });
    await shown.waitFor();
    const generated = await dialog.getByLabel('Password', { exact: true }).inputValue();
    expect(generated.length).toBeGreaterThanOrEqual(12);
    await expect(dialog.getByLabel('Password confirmation', { exact: true }).inputValue()).resolves.toBe(generated);
    await expect(shown.textContent()).resolves.toContain(generated);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await expect(page.evaluate<string>('navigator.clipboard.readText()')).resolves.toBe(generated);
    await shot(page, 'generated-password');
    await dialog.getByRole('switch', { name: 'Temporary' }).click();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('status').filter({ hasText: /^The password was set\.$/ }).waitFor();
    // Shown once: gone once it is set.
    await expect(shown.count()).resolves.toBe(0);
    await closeDialog(dialog);
    await nextSecond();
    expect(await validate('gina', generated)).toEqual({ status: 200, body: { valid: true } });
  });

  it('sends a reset email with its lifespan, and the mail arrives at the SMTP server', async () => {
    const { page } = admin;
    await openUser(page, 'ralf');
    await page.getByRole('tab', { name: 'Credentials' }).click();
    await page.getByRole('button', { name: 'Send reset email' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send reset email' });
    const update = dialog.getByRole('checkbox', { name: 'Update password' });
    if (!(await update.isChecked())) await update.check();
    await dialog.getByLabel('Link lifespan (minutes)').fill('30');
    await dialog.getByLabel('Link lifespan (minutes)').press('Tab');
    const seen = smtp.received.length;
    const [sent] = await Promise.all([page.waitForRequest((req) => req.url().includes(`/users/${ids.ralf ?? ''}/execute-actions-email`)), dialog.getByRole('button', { name: 'Send' }).click()]);
    await dialog.getByRole('status').filter({ hasText: 'The email is on its way to ralf@example.com.' }).waitFor();
    const mail = await smtp.next('ralf@example.com', { after: seen });
    expect(new URL(sent.url()).searchParams.get('lifespan')).toBe('1800');
    expect(JSON.parse(sent.postData() ?? 'null')).toEqual(['UPDATE_PASSWORD']);
    expect(linkIn(mail).startsWith(`${serviceUrl}/realms/${realm}/password-resources/reset?key=`)).toBe(true);
    await shot(page, 'reset-email-sent');
    await closeDialog(dialog);
  });

  it("creates a password-change ticket, and deletes the user's password", async () => {
    const { page } = admin;
    await openUser(page, 'ralf');
    await page.getByRole('tab', { name: 'Credentials' }).click();
    await page.getByRole('button', { name: 'Create password-change ticket' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create password-change ticket' });
    await dialog.getByLabel('Result URL').fill('https://app.example/done');
    await dialog.getByLabel('Lifespan (minutes)').fill('10');
    await dialog.getByLabel('Lifespan (minutes)').press('Tab');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const link = dialog.getByRole('status').getByRole('link');
    await link.waitFor();
    expect((await link.textContent())?.startsWith(`${serviceUrl}/realms/${realm}/password-resources/reset?key=`)).toBe(true);
    await shot(page, 'ticket');
    await closeDialog(dialog);

    await page.getByRole('button', { name: 'Delete credential' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete credential' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Delete credential' }).waitFor({ state: 'detached' });
    await nextSecond();
    expect(await validate('ralf', 'ralf first password 1')).toEqual({ status: 200, body: { valid: false } });
  });

  it('shows a user locked by wrong passwords, and unlocks them', async () => {
    const { page } = admin;
    for (let attempt = 1; attempt <= FAILURE_FACTOR; attempt++) expect(await validate('lena', `wrong guess ${attempt}`)).toEqual({ status: 200, body: { valid: false } });
    expect((await validate('lena', 'lena first password 1')).status).toBe(429);
    await openUser(page, 'lena');
    await page.getByRole('tab', { name: 'Brute force' }).click();
    await page.getByRole('status').filter({ hasText: /^Locked$/ }).waitFor();
    await page.getByRole('definition').filter({ hasText: new RegExp(`^${FAILURE_FACTOR}$`) }).first().waitFor();
    await shot(page, 'brute-force-locked');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('status').filter({ hasText: /^Not locked$/ }).waitFor();
    expect(await validate('lena', 'lena first password 1')).toEqual({ status: 200, body: { valid: true } });
  });

  it("shows the realm's user events and admin events, filtered by type and date", async () => {
    const { page } = admin;
    await nav(page).getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    await page.getByRole('tab', { name: 'User events' }).click();
    const table = eventsTable(page);
    await table.getByText('VALIDATE_PASSWORD_ERROR').first().waitFor();
    const today = new Date().toISOString().slice(0, 10);
    await page.getByLabel('Event type').fill('VALIDATE_PASSWORD_ERROR');
    await page.getByLabel('From date').fill(today);
    await page.getByLabel('To date').fill(today);
    await page.getByRole('button', { name: 'Filter' }).click();
    await table.getByText('VALIDATE_PASSWORD_ERROR').first().waitFor();
    await expect(table.getByText('VALIDATE_PASSWORD', { exact: true }).count()).resolves.toBe(0);
    // Lena's wrong passwords, and her right one refused while she was locked.
    await expect(table.getByText(ids.lena ?? '').count()).resolves.toBe(FAILURE_FACTOR + 1);
    await shot(page, 'events');
    // Nothing from tomorrow on.
    await page.getByLabel('From date').fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 10));
    await page.getByLabel('To date').fill('');
    await page.getByRole('button', { name: 'Filter' }).click();
    await table.getByText('No events.').waitFor();

    await page.getByRole('tab', { name: 'Admin events' }).click();
    await eventsTable(page).getByText(`users/${ids.olga ?? ''}/reset-password`).first().waitFor();
    await shot(page, 'admin-events');
  });

  it("shows a user's own events on their page", async () => {
    const { page } = admin;
    await openUser(page, 'lena');
    await page.getByRole('tab', { name: 'Events' }).click();
    await eventsTable(page).getByText('VALIDATE_PASSWORD_ERROR').first().waitFor();
    await shot(page, 'user-events');
  });

  it("shows the realm's SMTP settings and tests the connection with a mail to the administrator", async () => {
    const { page } = admin;
    await nav(page).getByRole('link', { name: 'Email' }).click();
    await page.getByRole('heading', { name: 'Email' }).waitFor();
    await page.getByText(String(smtp.port), { exact: true }).waitFor();
    const seen = smtp.received.length;
    await page.getByRole('button', { name: 'Test connection' }).click();
    await smtp.next(`${ADMIN}@example.com`, { after: seen });
    await page.getByRole('status').filter({ hasText: /\S/ }).first().waitFor();
    await shot(page, 'email');
  });

  it('shows a view-only administrator the pages without their actions, and a refusal as a clear message', async () => {
    const { context, page } = await signIn(VIEWER);
    await nav(page).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('grid', { name: 'Users' }).getByRole('link', { name: 'olga', exact: true }).waitFor();
    const absent = async (names: readonly string[]): Promise<void> => {
      for (const name of names) await expect(page.getByRole('button', { name, exact: true }).count()).resolves.toBe(0);
    };
    await absent(['Create user']);
    await shot(page, 'view-only-users');
    await openUser(page, 'olga');
    await absent(['Save']);
    await page.getByRole('tab', { name: 'Credentials' }).click();
    await page.getByRole('heading', { name: 'Password rules' }).waitFor();
    await absent(['Reset password', 'Send reset email', 'Create password-change ticket', 'Delete credential']);
    await page.getByRole('tab', { name: 'Brute force' }).click();
    await page.getByRole('status').filter({ hasText: /^(Not locked|Locked)$/ }).waitFor();
    await absent(['Unlock']);
    await shot(page, 'view-only-user');
    // Events need view-events, which this administrator lacks: the API says 403, the page says so.
    await nav(page).getByRole('link', { name: 'Events' }).click();
    await page.getByText(/You do not have permission to/).first().waitFor();
    await shot(page, 'forbidden');
    await nav(page).getByRole('link', { name: 'Email' }).click();
    await page.getByText("The realm's settings are not shown: reading them needs the view-realm role.").waitFor();
    await absent(['Test connection']);
    await shot(page, 'view-only-email');
    await context.close();
  });

  it('works on a narrow screen: the navigation is reachable and nothing scrolls sideways', async () => {
    const { context, page } = await signIn(ADMIN, { viewport: { width: 390, height: 844 } });
    // The navigation wraps onto a line of its own: every link in view, none behind a menu.
    for (const name of ['Users', 'Events', 'Email']) await expect(nav(page).getByRole('link', { name }).isVisible()).resolves.toBe(true);
    await nav(page).getByRole('link', { name: 'Users' }).click();
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

  it("renews the administrator's token with the refresh token, without a sign-in, and keeps tokens out of the page's storage", async () => {
    const { page } = admin;
    for (const deadline = Date.now() + ACCESS_TOKEN_SECONDS * 1000; renewals.length === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(renewals.length).toBeGreaterThan(0);
    const [first] = bearers;
    await nav(page).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('searchbox', { name: 'Search users' }).fill('olga');
    const [search] = await Promise.all([
      page.waitForRequest((request) => request.url().startsWith(`${serviceUrl}/admin/realms/${realm}/users?`)),
      page.getByRole('button', { name: 'Search' }).click(),
    ]);
    await page.getByRole('grid', { name: 'Users' }).getByRole('link', { name: 'olga', exact: true }).waitFor();
    // A token renewed since sign-in, taken by the admin API; no sign-in page on the way.
    expect(search.headers().authorization).toMatch(/^Bearer /);
    expect(search.headers().authorization).not.toBe(first);
    expect(page.url().startsWith(consoleUrlOf(realm))).toBe(true);
    const stored = await page.evaluate<string>('JSON.stringify([Object.values(sessionStorage), Object.values(localStorage)])');
    for (const bearer of bearers) expect(stored).not.toContain(bearer.replace(/^Bearer /, ''));
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
      expect.arrayContaining([
        'GET /admin/realms/{realm}/users',
        'POST /admin/realms/{realm}/users',
        'GET /admin/realms/{realm}/users/{id}',
        'PUT /admin/realms/{realm}/users/{id}',
        'PUT /admin/realms/{realm}/users/{id}/reset-password',
        'POST /admin/realms/{realm}/users/{id}/password-change-ticket',
        'DELETE /admin/realms/{realm}/users/{id}/credentials/{credentialId}',
        'PUT /admin/realms/{realm}/users/{id}/execute-actions-email',
        'GET /admin/realms/{realm}/attack-detection/brute-force/users/{id}',
        'DELETE /admin/realms/{realm}/attack-detection/brute-force/users/{id}',
        'GET /admin/realms/{realm}/events',
        'GET /admin/realms/{realm}/admin-events',
        'POST /admin/realms/{realm}/testSMTPConnection',
      ]),
    );
  });
});
