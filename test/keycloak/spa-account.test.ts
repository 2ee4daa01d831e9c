import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApp } from '../../src/app';
import { freePort } from '../../src/db/mongo-server';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources, RealmOptions } from '../../src/index';
import { DEMO, demoRealmOptions, ensureDemoRealm } from '../../examples/keycloak-demo';
import { buildSpa, startSpaServer } from '../../examples/spa-account/server';
import type { SpaServer } from '../../examples/spa-account/server';
import { testDatabaseUri } from '../helpers/db';
import { KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';
import { RELAXED_BRUTE_FORCE } from '../helpers/setup';

/**
 * examples/spa-account in Chromium against a real Keycloak: signed in with
 * authorization code and PKCE (oidc-client-ts), the page changes alice's
 * password at the service, in a sidecar realm (Keycloak keeps the passwords)
 * and in one whose passwords the service keeps.
 */
const keycloak = KeycloakAdmin.fromEnv();
const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'screenshots');
const { password: FIRST } = DEMO.user;
const SECOND = 'alice changed password 2';
const sidecarRealm = uniqueRealm('spa-sidecar');
const localRealm = uniqueRealm('spa-local');

let root: string;
let resources: PasswordResources;
let service: Server;
let serviceUrl: string;
let browser: Browser;
const pages: Record<string, SpaServer> = {};

async function canLogIn(realm: string, password: string): Promise<boolean> {
  const form = { grant_type: 'password', client_id: DEMO.serviceClient.clientId, client_secret: DEMO.serviceClient.clientSecret, username: 'alice', password };
  return keycloak.tokenRequest(realm, form).then(
    () => true,
    () => false,
  );
}

/** Keycloak's login form, if it asks (a window of the page, or the page itself). */
async function logInIfAsked(page: Page, password: string): Promise<void> {
  await page.waitForLoadState();
  if (!page.url().startsWith(keycloak.url) || (await page.locator('#password').count()) === 0) return;
  if (await page.locator('#username').isEditable().catch(() => false)) await page.fill('#username', 'alice');
  await page.fill('#password', password);
  await page.click('#kc-login');
}

/** The page of a realm, in a fresh browser context; sign-in windows are answered with `password()`. */
async function openPage(realm: string, password: () => string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext();
  const problems: string[] = [];
  context.on('page', (popup) => {
    void logInIfAsked(popup, password());
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(pages[realm]?.url ?? '');
  return { context, page, problems };
}

/** Sign in, a wrong current password, a policy violation, the change, and the sign-in again it needs. */
async function changeThroughThePage(realm: string, label: string): Promise<{ page: Page; context: BrowserContext }> {
  let password: string = FIRST;
  const { context, page, problems } = await openPage(realm, () => password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.href.startsWith(keycloak.issuerOf(realm)));
  // Authorization code with PKCE.
  expect(new URL(page.url()).searchParams.get('code_challenge_method')).toBe('S256');
  await logInIfAsked(page, FIRST);
  // The rules before the user types.
  const rules = page.locator('#rules li');
  await rules.first().waitFor();
  expect(await rules.allTextContents()).toEqual([
    'The password must have at least 12 characters.',
    'The password must contain at least 1 digit.',
    'The password must not be the username.',
  ]);
  await page.screenshot({ path: join(SCREENSHOTS, `spa-account-${label}-1-rules.png`), fullPage: true });

  await page.getByLabel('Current password', { exact: true }).fill('not her password 1');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#confirm-alert', { hasText: 'The current password is not correct.' }).waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, `spa-account-${label}-2-wrong-current.png`), fullPage: true });

  await page.getByLabel('Current password', { exact: true }).fill(FIRST);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('New password', { exact: true }).fill('alice');
  await page.getByRole('button', { name: 'Change password' }).click();
  const violations = page.locator('#change-alert li');
  await violations.first().waitFor();
  expect(await violations.allTextContents()).toHaveLength(3);
  await page.screenshot({ path: join(SCREENSHOTS, `spa-account-${label}-3-violations.png`), fullPage: true });

  await page.getByLabel('New password', { exact: true }).fill(SECOND);
  password = SECOND;
  await page.getByRole('button', { name: 'Change password' }).click();
  // The old token is refused after the change: the page signs in again in a window of its own and goes on.
  await page.locator('#status', { hasText: 'You are signed in again with it.' }).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(SCREENSHOTS, `spa-account-${label}-4-changed.png`), fullPage: true });
  expect(problems).toEqual([]);
  return { page, context };
}

async function serveRealm(realm: string): Promise<void> {
  pages[realm] = await startSpaServer(root, { authority: keycloak.issuerOf(realm), clientId: DEMO.spaClient, service: serviceUrl, realm }, await freePort());
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  root = await buildSpa(join(tmpdir(), `spa-account-${process.pid}`));
  const servicePort = await freePort();
  serviceUrl = `http://127.0.0.1:${servicePort}`;
  await serveRealm(sidecarRealm);
  await serveRealm(localRealm);
  const origins = (realm: string): string[] => [pages[realm]?.url ?? ''];
  await ensureDemoRealm(keycloak.url, { realm: sidecarRealm, spaOrigins: origins(sidecarRealm) });
  const aliceId = await ensureDemoRealm(keycloak.url, { realm: localRealm, spaOrigins: origins(localRealm) });
  const realm = (name: string, extra: Partial<RealmOptions>): RealmOptions => ({ ...demoRealmOptions(keycloak.url, name), cors: { origins: origins(name) }, bruteForce: RELAXED_BRUTE_FORCE, ...extra });
  resources = createPasswordResources({
    mongodbUri: testDatabaseUri('example-spa-account'),
    logger: pino({ level: 'silent' }),
    realms: { [sidecarRealm]: realm(sidecarRealm, {}), [localRealm]: realm(localRealm, { credentialStore: 'mongodb' }) },
  });
  await resources.ready();
  // The passwords-here realm: alice with Keycloak's id and the same password.
  await resources.accounts.createUser({ realm: localRealm, id: aliceId, username: 'alice', email: 'alice@example.com', password: FIRST });
  service = createServer(createApp(resources, pino({ level: 'silent' })));
  await new Promise<void>((resolve) => service.listen(servicePort, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser.close();
  await Promise.all(Object.values(pages).map((page) => page.close()));
  service.closeAllConnections();
  await new Promise((resolve) => service.close(resolve));
  await resources.close();
  await keycloak.deleteRealm(sidecarRealm);
  await keycloak.deleteRealm(localRealm);
});

describe('the SPA account page example, in Chromium against Keycloak', () => {
  it('changes the password Keycloak keeps (sidecar): Keycloak then takes the new one and refuses the old', async () => {
    const { context } = await changeThroughThePage(sidecarRealm, 'sidecar');
    await context.close();
    expect(await canLogIn(sidecarRealm, SECOND)).toBe(true);
    expect(await canLogIn(sidecarRealm, FIRST)).toBe(false);
  });

  it('changes the password the service keeps: validate-password then takes the new one and not the old', async () => {
    const { page, context } = await changeThroughThePage(localRealm, 'local');
    // The page's own token, from after the change (the one it signed in again for).
    // A string: the test's types have no DOM.
    const stored = await page.evaluate<string | null>(`sessionStorage.getItem(Object.keys(sessionStorage).find((name) => name.startsWith('oidc.user:')))`);
    const token = (JSON.parse(stored ?? '{}') as { access_token?: string }).access_token ?? '';
    expect(token).not.toBe('');
    const validate = async (password: string): Promise<unknown> => {
      const res = await fetch(`${serviceUrl}/realms/${localRealm}/password-resources/validate-password`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ password }),
      });
      return JSON.parse(await res.text()) as unknown;
    };
    expect(await validate(SECOND)).toEqual({ valid: true });
    expect(await validate(FIRST)).toEqual({ valid: false });
    await context.close();
  });
});
