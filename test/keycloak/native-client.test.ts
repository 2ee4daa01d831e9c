import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext } from 'playwright-core';
import { createApp } from '../../src/app';
import { freePort } from '../../src/db/mongo-server';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources } from '../../src/index';
import { DEMO, demoRealmOptions, ensureDemoRealm } from '../../examples/keycloak-demo';
import { testDatabaseUri } from '../helpers/db';
import { KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';
import { TcpRelay } from '../helpers/relay';
import { RELAXED_BRUTE_FORCE } from '../helpers/setup';

/**
 * examples/native-client end to end: the command line signs in at a real
 * Keycloak through Chromium (RFC 8252, PKCE, loopback redirect), and changes
 * the password at the service (sidecar realm) through every answer the
 * contract has.
 */
const keycloak = KeycloakAdmin.fromEnv();
/** Step-up after this many seconds (the realm's maxAuthAge). */
const MAX_AUTH_AGE = 30;
const realm = uniqueRealm('native');
const lockingRealm = uniqueRealm('native-locking');
const CLI = join(__dirname, '..', '..', 'examples', 'native-client', 'cli.ts');
const { password: FIRST } = DEMO.user;
const SECOND = 'alice changed password 2';

let resources: PasswordResources;
let service: HttpServer;
let serviceUrl: string;
let browser: Browser;
/** Between the service and Keycloak's admin and token endpoints: closed, the service sees Keycloak down (503). */
let relay: TcpRelay;

/** Clients still running, stopped in afterAll if a test failed half-way. */
const running = new Set<ChildProcessWithoutNullStreams>();

/** The native client, driven line by line. */
class Cli {
  readonly child: ChildProcessWithoutNullStreams;
  output = '';
  #read = 0;

  constructor(realmName: string) {
    this.child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CLI, '--issuer', keycloak.issuerOf(realmName), '--service', serviceUrl, '--no-open'], {
      env: { ...process.env },
    });
    running.add(this.child);
    this.child.once('exit', () => running.delete(this.child));
    this.child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Wait for `pattern` in what the app printed since the last match; the match. */
  async next(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output.slice(this.#read));
      if (match) {
        this.#read += match.index + match[0].length;
        return match;
      }
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no ${String(pattern)} in:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Answer the next question matching `prompt`. */
  async answer(prompt: RegExp, line: string): Promise<void> {
    await this.next(prompt);
    this.child.stdin.write(`${line}\n`);
  }

  async exit(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    return new Promise((resolve) => this.child.once('exit', resolve));
  }
}

/**
 * Open the address the app printed, in the browser, and sign in if Keycloak
 * asks (a session of the same browser may sign in without asking); done when
 * the loopback redirect answers.
 */
async function signInAt(context: BrowserContext, url: string, username: string, password: string): Promise<'asked' | 'silent'> {
  const page = await context.newPage();
  try {
    await page.goto(url);
    let asked: 'asked' | 'silent' = 'silent';
    if (new URL(page.url()).pathname !== '/callback') {
      await page.waitForSelector('#password');
      if (await page.locator('#username').isEditable().catch(() => false)) await page.fill('#username', username);
      await page.fill('#password', password);
      await page.click('#kc-login');
      asked = 'asked';
    }
    await page.waitForURL((address) => address.pathname === '/callback' && !address.href.startsWith(keycloak.url));
    expect(await page.textContent('body')).toContain('Signed in');
    return asked;
  } finally {
    await page.close();
  }
}

async function canLogIn(realmName: string, username: string, password: string): Promise<boolean> {
  const form = { grant_type: 'password', client_id: DEMO.serviceClient.clientId, client_secret: DEMO.serviceClient.clientSecret, username, password };
  return keycloak.tokenRequest(realmName, form).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  await ensureDemoRealm(keycloak.url, { realm });
  await ensureDemoRealm(keycloak.url, { realm: lockingRealm });
  relay = await TcpRelay.open(keycloak.url, await freePort());
  resources = createPasswordResources({
    mongodbUri: testDatabaseUri('example-native-client'),
    logger: pino({ level: 'silent' }),
    realms: {
      [realm]: {
        ...demoRealmOptions(keycloak.url, realm),
        credentialStore: { type: 'keycloak', ...DEMO.serviceClient, serverUrl: relay.url, timeoutMs: 2_000 },
        maxAuthAge: MAX_AUTH_AGE,
        bruteForce: RELAXED_BRUTE_FORCE,
      },
      // The second wrong password locks for 3 s.
      [lockingRealm]: { ...demoRealmOptions(keycloak.url, lockingRealm), bruteForce: { failureFactor: 2, waitIncrementSeconds: 3, quickLoginCheckMilliSeconds: 0 } },
    },
  });
  await resources.ready();
  service = createHttpServer(createApp(resources, pino({ level: 'silent' })));
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const address = service.address();
  serviceUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  for (const child of running) child.kill();
  await browser.close();
  service.closeAllConnections();
  await new Promise((resolve) => service.close(resolve));
  await resources.close();
  await relay.close();
  await keycloak.deleteRealm(realm);
  await keycloak.deleteRealm(lockingRealm);
});

describe('the native client example against Keycloak', () => {
  it('signs in with PKCE through a loopback redirect, and changes the password through each answer of the contract', async () => {
    const cli = new Cli(realm);
    const context = await browser.newContext();
    const login = await cli.next(/Sign in in your browser: (\S+)/);
    const authorize = new URL(login[1] ?? '');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(await signInAt(context, authorize.href, 'alice', FIRST)).toBe('asked');
    const signedInAt = Date.now();
    await cli.next(/Signed in\./);
    // The realm's rules, before the user types.
    await cli.next(/must have at least 12 characters\.\n.*must contain at least 1 digit/);

    await cli.answer(/Current password: /, 'not her password 1');
    await cli.answer(/New password: /, 'alice changed password 2');
    await cli.next(/The current password is not correct\./);

    await cli.answer(/Current password: /, FIRST);
    await cli.answer(/New password: /, 'alice');
    const refused = await cli.next(/The new password was refused:\n((?: {2}- .*\n)+)/);
    // Every broken rule at once.
    expect(refused[1]?.trim().split('\n')).toHaveLength(3);

    // Step-up: the sign-in is now older than the realm's maxAuthAge.
    await cli.next(/New password: /);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, signedInAt + (MAX_AUTH_AGE + 1) * 1000 - Date.now())));
    cli.child.stdin.write(`${SECOND}\n`);
    await cli.next(new RegExp(`needs a sign-in of the last ${MAX_AUTH_AGE} seconds`));
    const stepUp = new URL((await cli.next(/Sign in in your browser: (\S+)/))[1] ?? '');
    expect({ maxAge: stepUp.searchParams.get('max_age'), prompt: stepUp.searchParams.get('prompt') }).toEqual({ maxAge: String(MAX_AUTH_AGE), prompt: 'login' });
    // Keycloak away from the service for the retry: 503, and the app waits for Retry-After.
    await relay.close();
    expect(await signInAt(context, stepUp.href, 'alice', FIRST)).toBe('asked');
    await cli.next(/The service is unavailable; trying again in \d+ s\./);
    await relay.reopen();
    await cli.next(/Password changed\./);

    // The old token is refused now; the app signs in again (the browser's session, no password asked) and goes on.
    await cli.next(/The old sign-in is refused now that the password changed: sign in again\./);
    const again = new URL((await cli.next(/Sign in in your browser: (\S+)/))[1] ?? '');
    await signInAt(context, again.href, 'alice', SECOND);
    await cli.next(/Signed in again; the new password checks out: true\./);
    expect(await cli.exit()).toBe(0);
    await context.close();

    expect(await canLogIn(realm, 'alice', SECOND)).toBe(true);
    expect(await canLogIn(realm, 'alice', FIRST)).toBe(false);
  });

  it('waits out a lockout for its Retry-After, then changes the password', async () => {
    const cli = new Cli(lockingRealm);
    const context = await browser.newContext();
    await signInAt(context, (await cli.next(/Sign in in your browser: (\S+)/))[1] ?? '', 'alice', FIRST);
    for (const guess of ['wrong guess 1', 'wrong guess 2']) {
      await cli.answer(/Current password: /, guess);
      await cli.answer(/New password: /, SECOND);
      await cli.next(/The current password is not correct\./);
    }
    await cli.answer(/Current password: /, FIRST);
    await cli.answer(/New password: /, SECOND);
    const locked = await cli.next(/Too many wrong passwords: locked, waiting (\d+) s\./);
    const lockedAt = Date.now();
    expect(Number(locked[1])).toBeGreaterThan(0);
    await cli.answer(/Current password: /, FIRST);
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual((Number(locked[1]) - 1) * 1000);
    await cli.answer(/New password: /, SECOND);
    await cli.next(/Password changed\./);
    const again = (await cli.next(/Sign in in your browser: (\S+)/))[1] ?? '';
    await signInAt(context, again, 'alice', SECOND);
    await cli.next(/the new password checks out: true/);
    expect(await cli.exit()).toBe(0);
    await context.close();
  });
});
