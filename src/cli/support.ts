/** What the commands share: one-line errors, passwords from stdin, the services on MONGODB_URI, output. */
import { userInfo } from 'node:os';
import mongoose from 'mongoose';
import type { ServerConfig } from '../config/env';
import { DEFAULTS } from '../config/defaults';
import { AccountService } from '../domain/account-service';
import { AdminService } from '../domain/admin-service';
import type { AdminActor } from '../domain/events';
import { createPasswordHasher } from '../domain/hashing';
import { resolveHashDefaults, resolveHashScheme } from '../config/hash-options';
import { OptionsError } from '../options';
import { parsePasswordPolicy } from '../domain/policy';
import type { UserRecord, UserStore } from '../domain/store';
import { createMongooseEventStore } from '../store/mongoose/event-store';
import { createMongooseUserStore } from '../store/mongoose/user-store';

/** A failure to report in one line, with the exit code. */
export class CliError extends Error {
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

export async function passwordFrom(given: string | undefined, fromStdin: boolean | undefined, flag: string): Promise<string> {
  if ((given !== undefined) === (fromStdin === true)) throw new CliError(`give exactly one of ${flag} or --password-stdin`, 2);
  const password = given ?? (await readStdin());
  if (password === '') throw new CliError('the password is empty', 2);
  return password;
}

/** The use cases the user commands run, on `MONGODB_URI`. */
export interface Services {
  readonly accounts: AccountService;
  readonly admin: AdminService;
}

/** Changes made here are admin events, attributed to the operating system's user. */
export function cliActor(): AdminActor {
  return { userId: `cli:${userInfo().username}`, clientId: 'password-resources-cli' };
}

/** Run `work` with the account and admin services on `MONGODB_URI`, then disconnect. */
export async function withServices<T>(config: ServerConfig, realm: string, work: (services: Services) => Promise<T>): Promise<T> {
  const realms = config.resources.realms;
  if (Object.keys(realms).length > 0 && !(realm in realms)) {
    throw new CliError(`--realm: "${realm}" is not in REALMS (${Object.keys(realms).join(', ')})`, 2);
  }
  const policy = parsePasswordPolicy(realms[realm]?.passwordPolicy ?? config.resources.passwordPolicy ?? '');
  const fail = (name: string, problem: string): never => {
    throw new OptionsError(`${name}: ${problem}`);
  };
  const { hashAlgorithm, argon2, bcryptCost = DEFAULTS.bcryptCost } = config.resources;
  const hashDefaults = resolveHashDefaults({ hashAlgorithm, bcryptCost, ...(argon2 === undefined ? {} : { argon2 }) }, fail);
  const names = { policy: `options.realms.${realm}.passwordPolicy`, argon2: `options.realms.${realm}.argon2` };
  const hashScheme = resolveHashScheme(names, policy, realms[realm]?.argon2, hashDefaults, fail);
  return withUserStore(config, async (store, connection) => {
    const events = createMongooseEventStore(connection, { retentionSeconds: (config.resources.eventRetentionDays ?? DEFAULTS.eventRetentionDays) * 86_400 });
    await events.init();
    const accounts = new AccountService({
      store,
      hasher: createPasswordHasher(),
      policyOf: () => policy,
      hashSchemeOf: () => hashScheme,
      events: { record: (event) => events.insert(event) },
    });
    const admin = new AdminService({ store, accounts, policyOf: () => policy, events: { recordAdmin: (event) => events.insertAdmin(event) } });
    return work({ accounts, admin });
  });
}

/** The user with this username in the realm, or a one-line error. */
export async function userNamed(accounts: AccountService, realm: string, username: string): Promise<UserRecord> {
  const user = await accounts.findByUsername(realm, username);
  if (!user) throw new CliError(`no user "${username.toLowerCase()}" in realm "${realm}"`);
  return user;
}

/** Run `work` with the user store on `MONGODB_URI`, then disconnect. */
export async function withUserStore<T>(config: ServerConfig, work: (store: UserStore, connection: mongoose.Connection) => Promise<T>): Promise<T> {
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

/** A non-negative integer option, or a usage error naming it. */
export function count(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > max) throw new CliError(`${flag}: must be an integer from 0 to ${max}, got "${value}"`, 2);
  return n;
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
