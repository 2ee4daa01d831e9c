import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort } from '../../src/db/mongo-server';
import { call } from '../helpers/api';
import { contractChecks, holdBrowserResponses } from '../helpers/contract-hook';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { linkIn, TestSmtpServer } from '../helpers/smtp';

/** Where the page's screenshots go, for a person to look at. */
const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'screenshots');
/** Debian's Chromium (npm run browser:install); playwright-core downloads no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';

let issuer: TestIssuer;
let smtp: TestSmtpServer;
let service: TestService;
let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  issuer = await TestIssuer.start();
  smtp = await TestSmtpServer.start();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  service = await startTestService(
    'browser',
    {
      publicUrl: origin,
      passwordPolicy: 'length(12) and digits(1) and upperCase and notUsername',
      realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE, smtp: smtp.settings() } },
    },
    issuer,
  );
  server = createServer(service.app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root in a sandboxed machine with no way out: no sandbox, and none of Chromium's own network chatter.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser.close();
  await new Promise((resolve) => server.close(resolve));
  await service.close();
  await smtp.stop();
  await issuer.stop();
});

describe('the hosted reset page, in Chromium', () => {
  it('opens from the mail, shows every violation of a refused password, then changes it', async () => {
    const created = await service.resources.accounts.createUser({ realm: 'alpha', username: 'paula', email: 'paula@example.com', password: 'Paula old password 1' });
    const admin = await issuer.sign({ sub: 'admin', resource_access: { 'realm-management': { roles: ['manage-users'] } } });
    expect((await call(service.app, 'put', `/admin/realms/alpha/users/${created.id}/execute-actions-email`, { token: admin, body: ['UPDATE_PASSWORD'] })).status).toBe(204);
    const link = linkIn(await smtp.next('paula@example.com'));
    expect(link.startsWith(`${origin}/realms/alpha/password-resources/reset?key=`)).toBe(true);

    const context = await browser.newContext();
    holdBrowserResponses(context);
    const checked = contractChecks.count;
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });

    await page.goto(link);
    // The key is out of the address bar before the form shows.
    expect(page.url()).toBe(`${origin}/realms/alpha/password-resources/reset`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Choose a new password');
    await expect(page.locator('#rules li').allTextContents()).resolves.toEqual([
      'The password must have at least 12 characters.',
      'The password must contain at least 1 digit.',
      'The password must contain at least 1 upper-case letter.',
      'The password must not be the username.',
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, '1-form.png'), fullPage: true });

    // By keyboard, through the labels, as a screen reader user would.
    await page.getByLabel('New password', { exact: true }).fill('paula');
    await page.getByLabel('New password, again').fill('paula');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role=alert]');
    await expect(page.locator('[role=alert] li').allTextContents()).resolves.toEqual([
      'The password must have at least 12 characters.',
      'The password must contain at least 1 digit.',
      'The password must contain at least 1 upper-case letter.',
      'The password must not be the username.',
    ]);
    await expect(page.getByLabel('New password', { exact: true }).getAttribute('aria-invalid')).resolves.toBe('true');
    await page.screenshot({ path: join(SCREENSHOTS, '2-violations.png'), fullPage: true });

    await page.getByLabel('New password', { exact: true }).fill('Paula new password 2');
    await page.getByLabel('New password, again').fill('Paula new password 2');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForSelector('text=Your password was changed');
    await page.screenshot({ path: join(SCREENSHOTS, '3-changed.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
    await context.close();
    // What Chromium received (the link's 303, the form, the refused and the accepted post) was held against the contract.
    expect(contractChecks.count - checked).toBeGreaterThanOrEqual(4);

    const fresh = await issuer.signAfterChange(created.id);
    const validated = await call(service.app, 'post', '/realms/alpha/password-resources/validate-password', { token: fresh, body: { password: 'Paula new password 2' } });
    expect(validated.body).toEqual({ valid: true });
  });

  it('shows a clear page for a link already used', async () => {
    const created = await service.resources.accounts.createUser({ realm: 'alpha', username: 'quentin', email: 'quentin@example.com', password: 'Quentin old pass 1' });
    const admin = await issuer.sign({ sub: 'admin', resource_access: { 'realm-management': { roles: ['manage-users'] } } });
    await call(service.app, 'put', `/admin/realms/alpha/users/${created.id}/execute-actions-email`, { token: admin, body: ['UPDATE_PASSWORD'] });
    const link = linkIn(await smtp.next('quentin@example.com'));
    const context = await browser.newContext();
    holdBrowserResponses(context);
    const page = await context.newPage();
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('Quentin new pass 22');
    await page.getByLabel('New password, again').fill('Quentin new pass 22');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForSelector('text=Your password was changed');
    const again = await page.goto(link);
    expect(again?.status()).toBe(410);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link was already used');
    await page.screenshot({ path: join(SCREENSHOTS, '4-used.png'), fullPage: true });
    await context.close();
  });
});
