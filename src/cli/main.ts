#!/usr/bin/env node
/**
 * The `password-resources` command: `serve`, and user commands that work on
 * the database directly (like Keycloak's kcadm). Each prints one line; errors
 * print one line to stderr and exit non-zero.
 */
// First: sizes libuv's threadpool before anything uses it.
import './threadpool';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { Command, CommanderError } from 'commander';
import mongoose from 'mongoose';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config/env';
import type { ServerConfig } from '../config/env';
import { AccountService } from '../domain/account-service';
import { AdminService } from '../domain/admin-service';
import type { AdminActor } from '../domain/events';
import { createBcryptHasher } from '../domain/hashing';
import { parsePasswordPolicy } from '../domain/policy';
import { PasswordResourcesError } from '../errors';
import { OptionsError } from '../options';
import { startServer } from '../server';
import type { UserStore } from '../domain/store';
import { createMongooseUserStore } from '../store/mongoose/user-store';
import { createMongooseEventStore } from '../store/mongoose/event-store';
import { DEFAULTS } from '../config/defaults';
import { userRepresentation } from '../http/admin/users';
import type { UserRecord } from '../domain/store';
import { KeycloakExportError, importKeycloakUsers, readKeycloakExport } from './import-keycloak';

/** A failure to report in one line, with the exit code. */
class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('--password-stdin: nothing on standard input (pipe the password in)', 2);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is what `echo` and here-strings add; it is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function passwordFrom(given: string | undefined, fromStdin: boolean | undefined, flag: string): Promise<string> {
  if ((given !== undefined) === (fromStdin === true)) throw new CliError(`give exactly one of ${flag} or --password-stdin`, 2);
  const password = given ?? (await readStdin());
  if (password === '') throw new CliError('the password is empty', 2);
  return password;
}

/** The use cases the user commands run, on `MONGODB_URI`. */
interface Services {
  readonly accounts: AccountService;
  readonly admin: AdminService;
}

/** Changes made here are admin events, attributed to the operating system's user. */
function cliActor(): AdminActor {
  return { userId: `cli:${userInfo().username}`, clientId: 'password-resources-cli' };
}

/** Run `work` with the account and admin services on `MONGODB_URI`, then disconnect. */
async function withServices<T>(config: ServerConfig, realm: string, work: (services: Services) => Promise<T>): Promise<T> {
  const realms = config.resources.realms;
  if (Object.keys(realms).length > 0 && !(realm in realms)) {
    throw new CliError(`--realm: "${realm}" is not in REALMS (${Object.keys(realms).join(', ')})`, 2);
  }
  const policy = parsePasswordPolicy(realms[realm]?.passwordPolicy ?? config.resources.passwordPolicy ?? '');
  return withUserStore(config, async (store, connection) => {
    const events = createMongooseEventStore(connection, { retentionSeconds: (config.resources.eventRetentionDays ?? DEFAULTS.eventRetentionDays) * 86_400 });
    await events.init();
    const accounts = new AccountService({
      store,
      hasher: createBcryptHasher({ cost: config.resources.bcryptCost ?? DEFAULTS.bcryptCost }),
      policyOf: () => policy,
      events: { record: (event) => events.insert(event) },
    });
    const admin = new AdminService({ store, accounts, policyOf: () => policy, events: { recordAdmin: (event) => events.insertAdmin(event) } });
    return work({ accounts, admin });
  });
}

/** The user with this username in the realm, or a one-line error. */
async function userNamed(accounts: AccountService, realm: string, username: string): Promise<UserRecord> {
  const user = await accounts.findByUsername(realm, username);
  if (!user) throw new CliError(`no user "${username.toLowerCase()}" in realm "${realm}"`);
  return user;
}

/** Run `work` with the user store on `MONGODB_URI`, then disconnect. */
async function withUserStore<T>(config: ServerConfig, work: (store: UserStore, connection: mongoose.Connection) => Promise<T>): Promise<T> {
  if (config.mongodbUri === undefined) throw new CliError('MONGODB_URI: is required for this command (the database to change)', 2);
  const connection = mongoose.createConnection(config.mongodbUri, { bufferCommands: false, serverSelectionTimeoutMS: 5_000 });
  try {
    await connection.asPromise();
    const store = createMongooseUserStore(connection);
    await store.init();
    return await work(store, connection);
  } finally {
    await connection.close();
  }
}

/** The JSON document in `path`; a missing or unreadable file, or one that is not JSON, is a usage error. */
async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 2);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${path}: not JSON (${error instanceof Error ? error.message : String(error)})`, 2);
  }
}

function describe(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError || error instanceof OptionsError) return { message: error.message, exitCode: 2 };
  if (error instanceof PasswordResourcesError) {
    const violations = 'violations' in error ? (error.violations as { message: string }[]).map((v) => v.message).join(' ') : '';
    return { message: `${error.message}${violations ? ` ${violations}` : ''}`, exitCode: 1 };
  }
  if (error instanceof Error && /Mongo|ECONNREFUSED/.test(`${error.name} ${error.message}`)) {
    return { message: `cannot reach MongoDB at MONGODB_URI: ${error.message.split('\n')[0] ?? ''}`, exitCode: 1 };
  }
  return { message: error instanceof Error ? error.message : String(error), exitCode: 1 };
}

/** A non-negative integer option, or a usage error naming it. */
function count(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > max) throw new CliError(`${flag}: must be an integer from 0 to ${max}, got "${value}"`, 2);
  return n;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function buildProgram(env: NodeJS.ProcessEnv): Command {
  const program = new Command('password-resources')
    .description('Password resources for OpenID Connect realms')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('run the standalone server (configured by the environment; see README)')
    .action(async () => {
      const config = loadConfig(env);
      const logger = pino({ level: config.logLevel });
      const running = await startServer(config, logger);
      const stop = (signal: string): void => {
        logger.info({ signal }, 'shutting down: finishing in-flight requests');
        running.close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });

  program
    .command('create-user')
    .description('create an enabled user in a realm')
    .requiredOption('--realm <realm>', 'the realm')
    .requiredOption('--username <username>', 'the username (stored lower-case)')
    .option('--email <email>', 'the email (stored lower-case)')
    .option('--id <subject>', "the user's id: the identity provider's `sub` (default: a new UUID)")
    .option('--password <password>', 'the password (prefer --password-stdin: shell history keeps arguments)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--temporary', 'the user must choose a new password (UPDATE_PASSWORD)')
    .option('--json', 'print the user as JSON')
    .action(async (opts: { realm: string; username: string; email?: string; id?: string; password?: string; passwordStdin?: boolean; temporary?: boolean; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const password = opts.password === undefined && opts.passwordStdin !== true ? undefined : await passwordFrom(opts.password, opts.passwordStdin, '--password');
      const user = await withServices(config, opts.realm, ({ admin }) =>
        admin.createUser({ realm: opts.realm, username: opts.username, email: opts.email, id: opts.id, password, temporary: opts.temporary === true }, cliActor()),
      );
      if (opts.json) print(JSON.stringify({ id: user.id, realm: user.realm, username: user.username, email: user.email ?? null, enabled: user.enabled, requiredActions: user.requiredActions }));
      else print(`created user "${user.username}" with id ${user.id} in realm "${user.realm}"`);
    });

  program
    .command('set-password')
    .description("set a user's password as an administrator (like kcadm.sh set-password)")
    .requiredOption('--realm <realm>', 'the realm')
    .requiredOption('--username <username>', 'the username')
    .option('--new-password <password>', 'the new password (prefer --password-stdin)')
    .option('--password-stdin', 'read the new password from standard input')
    .option('--generate', 'make a random password that meets the policy, and print it once')
    .option('--temporary', 'the user must choose a new password (UPDATE_PASSWORD)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { realm: string; username: string; newPassword?: string; passwordStdin?: boolean; generate?: boolean; temporary?: boolean; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      if (opts.generate === true && (opts.newPassword !== undefined || opts.passwordStdin === true)) {
        throw new CliError('give exactly one of --new-password, --password-stdin or --generate', 2);
      }
      const password = opts.generate === true ? undefined : await passwordFrom(opts.newPassword, opts.passwordStdin, '--new-password');
      const temporary = opts.temporary === true;
      const { user, generated } = await withServices(config, opts.realm, async ({ accounts, admin }) => {
        const found = await userNamed(accounts, opts.realm, opts.username);
        const made = await admin.resetPassword(opts.realm, found.id, { value: password, generate: opts.generate === true, temporary }, cliActor());
        return { user: found, generated: made };
      });
      if (opts.json) print(JSON.stringify({ id: user.id, realm: opts.realm, username: user.username, temporary, ...(generated === undefined ? {} : { password: generated }) }));
      else if (generated !== undefined) print(generated);
      else print(`password of "${user.username}" in realm "${opts.realm}" set${temporary ? ' (temporary)' : ''}`);
    });

  program
    .command('get-users')
    .description("list a realm's users (like kcadm.sh get users), never their credentials")
    .requiredOption('--realm <realm>', 'the realm')
    .option('--username <username>', 'only this username (exact)')
    .option('--search <text>', 'username, email or name starting with this (*text* anywhere)')
    .option('--first <n>', 'skip this many', '0')
    .option('--max <n>', 'at most this many', '100')
    .option('--json', "print Keycloak's user representations as a JSON array")
    .action(async (opts: { realm: string; username?: string; search?: string; first: string; max: string; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const page = { first: count('--first', opts.first, Number.MAX_SAFE_INTEGER), max: count('--max', opts.max, 10_000) };
      const search = opts.search;
      const users = await withServices(config, opts.realm, ({ admin }) =>
        admin.findUsers(
          opts.realm,
          {
            username: opts.username === undefined ? undefined : { value: opts.username, mode: 'exact' },
            any: search === undefined ? undefined : /^\*.+\*$/.test(search) ? { value: search.slice(1, -1), mode: 'infix' } : { value: search.replace(/\*$/, ''), mode: 'prefix' },
          },
          page,
        ),
      );
      if (opts.json) {
        print(JSON.stringify(users.map(userRepresentation)));
        return;
      }
      for (const user of users) {
        print([user.id, user.username, user.email ?? '-', user.enabled ? 'enabled' : 'disabled', user.requiredActions.join(',') || '-'].join('\t'));
      }
    });

  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    program
      .command(name)
      .description(enabled ? 'enable a user (and forget their login failures, as Keycloak does)' : 'disable a user: their tokens and passwords stop working')
      .requiredOption('--realm <realm>', 'the realm')
      .requiredOption('--username <username>', 'the username')
      .option('--json', 'print the user as JSON')
      .action(async (opts: { realm: string; username: string; json?: boolean }) => {
        const config = loadConfig(env, { requireRealms: false });
        const user = await withServices(config, opts.realm, async ({ accounts, admin }) => {
          const found = await userNamed(accounts, opts.realm, opts.username);
          return admin.updateUser(opts.realm, found.id, { enabled }, cliActor());
        });
        if (opts.json) print(JSON.stringify(userRepresentation(user)));
        else print(`user "${user.username}" in realm "${opts.realm}" ${enabled ? 'enabled' : 'disabled'}`);
      });
  }

  program
    .command('unlock')
    .description("forget a user's login failures and end a temporary lockout (a permanent lockout needs enable)")
    .requiredOption('--realm <realm>', 'the realm')
    .requiredOption('--username <username>', 'the username')
    .option('--json', 'print the brute force state after it as JSON')
    .action(async (opts: { realm: string; username: string; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const { user, status } = await withServices(config, opts.realm, async ({ accounts, admin }) => {
        const found = await userNamed(accounts, opts.realm, opts.username);
        await admin.clearBruteForce(opts.realm, found.id, cliActor());
        return { user: found, status: await admin.bruteForceStatus(opts.realm, found.id) };
      });
      if (opts.json) print(JSON.stringify({ id: user.id, username: user.username, numFailures: status.numFailures, disabled: status.disabled }));
      else print(`user "${user.username}" in realm "${opts.realm}" unlocked${user.enabled ? '' : ' (still disabled: run enable)'}`);
    });

  program
    .command('import-keycloak')
    .description("import the users of a Keycloak realm export (kc.sh export --realm R --users same_file) into the realm of that name, with their passwords as Keycloak hashed them")
    .argument('<realm-export.json>', 'the export file')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const document = await readJsonFile(file);
      let realmExport;
      try {
        realmExport = readKeycloakExport(document);
      } catch (error) {
        if (error instanceof KeycloakExportError) throw new CliError(`${file}: ${error.message}`, 2);
        throw error;
      }
      const served = Object.keys(config.resources.realms);
      if (served.length > 0 && !served.includes(realmExport.realm)) {
        throw new CliError(`${file}: the export's realm "${realmExport.realm}" is not in REALMS (${served.join(', ')})`, 2);
      }
      const report = await withUserStore(config, (store) => importKeycloakUsers(realmExport, store));
      // Warnings on stderr, one line each; the result on stdout.
      for (const note of report.notApplied) process.stderr.write(`password-resources: ${note}\n`);
      for (const user of report.skipped) {
        process.stderr.write(`password-resources: skipped user ${user.username === undefined ? '(no username)' : `"${user.username}"`}${user.id === undefined ? '' : ` (id ${user.id})`}: ${user.reason}\n`);
      }
      if (opts.json) print(JSON.stringify(report));
      else print(`imported ${report.imported}, unchanged ${report.unchanged}, skipped ${report.skipped.length} (realm "${report.realm}")`);
    });

  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram(process.env).parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander printed its own message (usage, missing option); help and version exit 0.
      process.exitCode = error.exitCode;
      return;
    }
    const { message, exitCode } = describe(error);
    process.stderr.write(`password-resources: ${message}\n`);
    process.exitCode = exitCode;
  }
}

if (require.main === module) void main();
