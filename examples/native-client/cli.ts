/**
 * A native app's "Change password", as a command line (it stands for a
 * mobile app: the same calls). Signs in through the browser (RFC 8252), shows
 * the realm's rules, changes the password with `reset-password`, and handles
 * each answer of the contract; after the change the old token is refused, so
 * it signs in again.
 *
 *   node -r ts-node/register/transpile-only examples/native-client/cli.ts \
 *     --issuer http://127.0.0.1:8180/realms/demo --service http://127.0.0.1:8080
 */
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { AccountApi } from '../account-api';
import type { Answer, PolicyRule } from '../account-api';
import { signIn } from './sign-in';
import type { Tokens } from './sign-in';
import { Terminal } from './terminal';

interface Options {
  readonly issuer: string;
  readonly clientId: string;
  readonly service: string;
  readonly realm: string;
  readonly open: boolean;
}

/** How many 503s in a row the app waits out before it gives up. */
const UNAVAILABLE_RETRIES = 3;

const sleep = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function parseOptions(argv: readonly string[]): Options {
  const command = new Command('native-client')
    .requiredOption('--issuer <url>', "the realm's issuer, e.g. http://127.0.0.1:8180/realms/demo")
    .requiredOption('--service <url>', 'where password-resources serves /realms/... (with a gateway prefix, if any)')
    .option('--client-id <id>', 'the public client', 'native-client')
    .option('--realm <name>', "the realm at the service (default: the issuer's)")
    .option('--no-open', 'print the sign-in address only, do not open a browser')
    .parse(argv);
  const options = command.opts<{ issuer: string; service: string; clientId: string; realm?: string; open: boolean }>();
  const realm = options.realm ?? /\/realms\/([^/]+)\/?$/.exec(options.issuer)?.[1];
  if (realm === undefined) return command.error("--realm is needed: the issuer is not Keycloak's <server>/realms/<realm>");
  return { ...options, realm: decodeURIComponent(realm) };
}

/** One "Change password" session. */
class ChangePassword {
  #tokens: Tokens | undefined;

  constructor(
    readonly options: Options,
    readonly terminal: Terminal,
    readonly api = new AccountApi(options.service, options.realm),
  ) {}

  async signIn(maxAge?: number): Promise<string> {
    this.#tokens = await signIn({
      issuer: this.options.issuer,
      clientId: this.options.clientId,
      ...(maxAge === undefined ? {} : { maxAge }),
      open: (url) => {
        this.terminal.say(`Sign in in your browser: ${url}`);
        // The system browser (RFC 8252 section 8.12: never an embedded one).
        if (this.options.open) spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [url], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
      },
    });
    this.terminal.say('Signed in.');
    return this.#tokens.accessToken;
  }

  get token(): string {
    if (!this.#tokens) throw new Error('not signed in');
    return this.#tokens.accessToken;
  }

  async showRules(): Promise<void> {
    const rules = await this.api.policy(this.token);
    if (!Array.isArray(rules)) throw new Error(`password-policy: ${JSON.stringify(rules)}`);
    this.terminal.say('The new password must follow these rules:');
    for (const rule of rules as readonly PolicyRule[]) this.terminal.say(`  - ${rule.message}`);
  }

  async askBoth(): Promise<{ current: string; next: string }> {
    return { current: await this.terminal.ask('Current password: ', true), next: await this.terminal.ask('New password: ', true) };
  }

  /** Change the password, answering each refusal the way the contract says, until it is changed; the new password. */
  async change(): Promise<string> {
    let passwords = await this.askBoth();
    let unavailable = 0;
    for (;;) {
      const answer = await this.api.changePassword(this.token, passwords.current, passwords.next);
      unavailable = answer.kind === 'unavailable' ? unavailable + 1 : 0;
      if (answer.kind === 'done') break;
      passwords = await this.handle(answer, passwords, unavailable);
    }
    this.terminal.say('Password changed.');
    return passwords.next;
  }

  /** What to do on one refusal; the passwords to try next. */
  async handle(answer: Exclude<Answer, { kind: 'done' }>, passwords: { current: string; next: string }, unavailable: number): Promise<{ current: string; next: string }> {
    switch (answer.kind) {
      case 'wrong-current-password':
        this.terminal.say('The current password is not correct.');
        return this.askBoth();
      case 'policy-violations':
        this.terminal.say('The new password was refused:');
        for (const violation of answer.violations) this.terminal.say(`  - ${violation.message}`);
        return { current: passwords.current, next: await this.terminal.ask('New password: ', true) };
      case 'step-up':
        this.terminal.say(`This change needs a sign-in of the last ${answer.maxAge} seconds: sign in again.`);
        await this.signIn(answer.maxAge);
        return passwords;
      case 'locked':
        this.terminal.say(`Too many wrong passwords: locked, waiting ${answer.retryAfterSeconds} s. (${answer.message})`);
        await sleep(answer.retryAfterSeconds);
        return this.askBoth();
      case 'unavailable':
        if (unavailable > UNAVAILABLE_RETRIES) throw new Error(`the service is still unavailable after ${UNAVAILABLE_RETRIES} retries`);
        this.terminal.say(`The service is unavailable; trying again in ${answer.retryAfterSeconds} s.`);
        await sleep(answer.retryAfterSeconds);
        return passwords;
      case 'sign-in-again':
        this.terminal.say(`The sign-in is no longer accepted (${answer.message}): sign in again.`);
        await this.signIn();
        return passwords;
      case 'failed':
        throw new Error(`${answer.status} ${answer.error}: ${answer.message}`);
    }
  }

  /** After a change the old token is refused: sign in again, and go on where the user was. */
  async afterChange(newPassword: string, changedAt: number): Promise<void> {
    const old = await this.api.validatePassword(this.token, newPassword);
    if (typeof old === 'object' && old.kind === 'sign-in-again') {
      this.terminal.say('The old sign-in is refused now that the password changed: sign in again.');
      // Tokens are refused up to the change's own second (`iat` counts whole seconds), and a browser
      // that still has its session signs in again at once: let that second pass first.
      await sleep(Math.max(0, changedAt + 1000 - Date.now()) / 1000);
      await this.signIn();
    }
    const valid = await this.api.validatePassword(this.token, newPassword);
    if (typeof valid !== 'boolean') throw new Error(`validate-password after signing in again: ${JSON.stringify(valid)}`);
    this.terminal.say(`Signed in again; the new password checks out: ${String(valid)}.`);
  }
}

async function main(): Promise<void> {
  const terminal = new Terminal();
  try {
    const session = new ChangePassword(parseOptions(process.argv), terminal);
    await session.signIn();
    await session.showRules();
    const newPassword = await session.change();
    await session.afterChange(newPassword, Date.now());
  } finally {
    terminal.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`native-client: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
