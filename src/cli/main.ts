#!/usr/bin/env node
/**
 * The `password-resources` command: `serve`, and user commands that work on
 * the database directly (like Keycloak's kcadm). Each prints one line; errors
 * print one line to stderr and exit non-zero.
 */
// First: sizes libuv's threadpool before anything uses it.
import './threadpool';
import { readFile } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import mongoose from 'mongoose';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config/env';
import type { ServerConfig } from '../config/env';
import { AccountService } from '../domain/account-service';
import { createBcryptHasher } from '../domain/hashing';
import { parsePasswordPolicy } from '../domain/policy';
import { PasswordResourcesError } from '../errors';
import { OptionsError } from '../options';
import { startServer } from '../server';
import type { UserStore } from '../domain/store';
import { createMongooseUserStore } from '../store/mongoose/user-store';
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

/** Run `work` with the account service on `MONGODB_URI`, then disconnect. */
async function withAccounts<T>(config: ServerConfig, realm: string, work: (accounts: AccountService) => Promise<T>): Promise<T> {
  if (config.mongodbUri === undefined) throw new CliError('MONGODB_URI: is required for this command (the database to change)', 2);
  const realms = config.resources.realms;
  if (Object.keys(realms).length > 0 && !(realm in realms)) {
    throw new CliError(`--realm: "${realm}" is not in REALMS (${Object.keys(realms).join(', ')})`, 2);
  }
  const policy = parsePasswordPolicy(realms[realm]?.passwordPolicy ?? config.resources.passwordPolicy ?? '');
  const connection = mongoose.createConnection(config.mongodbUri, { bufferCommands: false, serverSelectionTimeoutMS: 5_000 });
  try {
    await connection.asPromise();
    const store = createMongooseUserStore(connection);
    await store.init();
    const accounts = new AccountService({ store, hasher: createBcryptHasher({ cost: config.resources.bcryptCost ?? 12 }), policyOf: () => policy });
    return await work(accounts);
  } finally {
    await connection.close();
  }
}

/** Run `work` with the user store on `MONGODB_URI`, then disconnect. */
async function withUserStore<T>(config: ServerConfig, work: (store: UserStore) => Promise<T>): Promise<T> {
  if (config.mongodbUri === undefined) throw new CliError('MONGODB_URI: is required for this command (the database to change)', 2);
  const connection = mongoose.createConnection(config.mongodbUri, { bufferCommands: false, serverSelectionTimeoutMS: 5_000 });
  try {
    await connection.asPromise();
    const store = createMongooseUserStore(connection);
    await store.init();
    return await work(store);
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
      const user = await withAccounts(config, opts.realm, (accounts) =>
        accounts.createUser({ realm: opts.realm, username: opts.username, email: opts.email, id: opts.id, password, temporary: opts.temporary === true }),
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
    .option('--temporary', 'the user must choose a new password (UPDATE_PASSWORD)')
    .action(async (opts: { realm: string; username: string; newPassword?: string; passwordStdin?: boolean; temporary?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const password = await passwordFrom(opts.newPassword, opts.passwordStdin, '--new-password');
      await withAccounts(config, opts.realm, async (accounts) => {
        const user = await accounts.findByUsername(opts.realm, opts.username);
        if (!user) throw new CliError(`no user "${opts.username.toLowerCase()}" in realm "${opts.realm}"`);
        await accounts.setPassword(user, password, { temporary: opts.temporary === true });
      });
      print(`password of "${opts.username.toLowerCase()}" in realm "${opts.realm}" set${opts.temporary ? ' (temporary)' : ''}`);
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
