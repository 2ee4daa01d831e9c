import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
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
import { TcpRelay } from '../helpers/relay';
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
const answersRealm = uniqueRealm('spa-answers');
/** Step-up after this many seconds in the answers realm (its maxAuthAge). */
const MAX_AUTH_AGE = 20;
/** Between the service and the answers realm's Keycloak endpoints: closed, the service answers 503. */
let relay: TcpRelay;

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

/** The page of a realm, in a fresh browser context; each sign-in window it opens goes to `onWindow`. */
async function openPage(realm: string, onWindow: (popup: Page) => Promise<void>): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext();
  const problems: string[] = [];
  const page = await context.newPage();
  page.on('popup', (popup) => {
    void onWindow(popup);
  });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(pages[realm]?.url ?? '');
  return { context, page, problems };
}

/** The page's "Sign in": to Keycloak with PKCE and back, to the realm's rules, shown before the user types. */
async function signInOnPage(page: Page, realm: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.href.startsWith(keycloak.issuerOf(realm)));
  expect(new URL(page.url()).searchParams.get('code_challenge_method')).toBe('S256');
  await logInIfAsked(page, FIRST);
  const rules = page.locator('#rules li');
  await rules.first().waitFor();
  expect(await rules.allTextContents()).toEqual([
    'The password must have at least 12 characters.',
    'The password must contain at least 1 digit.',
    'The password must not be the username.',
  ]);
}

/** Sign in, a wrong current password, a policy violation, the change, and the sign-in again it needs. */
async function changeThroughThePage(realm: string, label: string): Promise<{ page: Page; context: BrowserContext }> {
  let password: string = FIRST;
  const { context, page, problems } = await openPage(realm, (popup) => logInIfAsked(popup, password));
  await signInOnPage(page, realm);
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
  await serveRealm(answersRealm);
  const origins = (realm: string): string[] => [pages[realm]?.url ?? ''];
  await ensureDemoRealm(keycloak.url, { realm: sidecarRealm, spaOrigins: origins(sidecarRealm) });
  await ensureDemoRealm(keycloak.url, { realm: answersRealm, spaOrigins: origins(answersRealm) });
  relay = await TcpRelay.open(keycloak.url, await freePort());
  const aliceId = await ensureDemoRealm(keycloak.url, { realm: localRealm, spaOrigins: origins(localRealm) });
  const realm = (name: string, extra: Partial<RealmOptions>): RealmOptions => ({ ...demoRealmOptions(keycloak.url, name), cors: { origins: origins(name) }, bruteForce: RELAXED_BRUTE_FORCE, ...extra });
  resources = createPasswordResources({
    mongodbUri: testDatabaseUri('example-spa-account'),
    logger: pino({ level: 'silent' }),
    realms: {
      [sidecarRealm]: realm(sidecarRealm, {}),
      [localRealm]: realm(localRealm, { credentialStore: 'mongodb' }),
      // The second wrong password locks for 3 s; Keycloak reached through the relay.
      [answersRealm]: realm(answersRealm, {
        maxAuthAge: MAX_AUTH_AGE,
        bruteForce: { failureFactor: 2, waitIncrementSeconds: 3, quickLoginCheckMilliSeconds: 0 },
        credentialStore: { type: 'keycloak', ...DEMO.serviceClient, serverUrl: relay.url, timeoutMs: 2_000 },
      }),
    },
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
  await relay.close();
  await keycloak.deleteRealm(sidecarRealm);
  await keycloak.deleteRealm(localRealm);
  await keycloak.deleteRealm(answersRealm);
  await rm(root, { recursive: true, force: true });
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

  it('waits out a lockout, signs in again for a step-up, and retries a 503, keeping what was typed', async () => {
    let stepUp: URL | undefined;
    // The first window is the step-up's: Keycloak goes away from the service while the user signs in again.
    let onWindow = async (popup: Page): Promise<void> => {
      await popup.waitForURL((url) => url.href.startsWith(keycloak.url));
      stepUp = new URL(popup.url());
      await relay.close();
      onWindow = (next) => logInIfAsked(next, SECOND);
      await logInIfAsked(popup, FIRST);
    };
    const { context, page, problems } = await openPage(answersRealm, (popup) => onWindow(popup));
    await signInOnPage(page, answersRealm);
    const signedInAt = Date.now();
    const current = page.getByLabel('Current password', { exact: true });
    const proceed = page.getByRole('button', { name: 'Continue' });
    for (const guess of ['wrong guess 1', 'wrong guess 2']) {
      await current.fill(guess);
      // This guess's answer, not the last one's alert.
      await Promise.all([page.waitForResponse((res) => res.url().endsWith('/validate-password')), proceed.click()]);
      await page.locator('#confirm-alert', { hasText: 'The current password is not correct.' }).waitFor();
    }
    await current.fill(FIRST);
    await proceed.click();
    const locked = await page.locator('#confirm-alert', { hasText: /Too many wrong passwords\. Try again in \d+ seconds\./ }).textContent();
    const lockedAt = Date.now();
    expect(await proceed.isDisabled()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'spa-account-answers-1-locked.png'), fullPage: true });
    await page.waitForSelector('#confirm-form button:not([disabled])', { timeout: 10_000 });
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual((Number(/in (\d+) seconds/.exec(locked ?? '')?.[1]) - 1) * 1000);

    await proceed.click();
    await page.getByLabel('New password', { exact: true }).fill(SECOND);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, signedInAt + (MAX_AUTH_AGE + 1) * 1000 - Date.now())));
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#status', { hasText: /The service is unavailable; trying again in \d+ s\./ }).waitFor({ timeout: 60_000 });
    expect({ maxAge: stepUp?.searchParams.get('max_age'), prompt: stepUp?.searchParams.get('prompt') }).toEqual({ maxAge: String(MAX_AUTH_AGE), prompt: 'login' });
    await page.screenshot({ path: join(SCREENSHOTS, 'spa-account-answers-2-unavailable.png'), fullPage: true });
    await relay.reopen();
    await page.locator('#status', { hasText: 'You are signed in again with it.' }).waitFor({ timeout: 60_000 });
    expect(problems).toEqual([]);
    await context.close();
    expect(await canLogIn(answersRealm, SECOND)).toBe(true);
  });
});
