/**
 * The standalone server's configuration: the environment first, `CONFIG_FILE`
 * for what differs per realm. Read once at start; a bad setting stops start-up
 * with one line naming it.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import { BCRYPT_COST_RANGE, HASH_ALGORITHMS, HASH_SETTING_RANGES } from '../domain/hashing';
import type { HashAlgorithm } from '../domain/hashing';
import { parsePasswordPolicy, PolicySyntaxError } from '../domain/policy';
import { checkHttpUrl, checkInteger, REALM_NAME } from './checks';
import { failSetting as fail } from './config-error';
import { readConfigFile } from './config-file';
import type { ConfigFile, FileRealm } from './config-file';
import type { DatabaseOptions } from './database-options';
import { resolveHashDefaults, resolveHashScheme } from './hash-options';
import { defaultHashConcurrency, DEFAULTS, LOG_LEVELS } from './defaults';
import type { HttpOptions } from './http-options';
import type { PasswordOptions } from './password-options';
import type { RealmOptions } from './realm-options';
import type { TokenOptions } from './token-options';

export { ConfigError } from './config-error';

/** The standalone server's configuration, resolved from the environment and `CONFIG_FILE`. */
export interface ServerConfig {
  readonly port: number;
  /** Unset: the server starts an embedded ephemeral database. */
  readonly mongodbUri: string | undefined;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Everything the router needs but the database connection and logger. */
  readonly resources: ServerResources;
}

/** The router's options the environment and `CONFIG_FILE` give: all but the connection, the logger and the hasher. */
export interface ServerResources extends Omit<DatabaseOptions, 'connection' | 'mongodbUri'>, Omit<PasswordOptions, 'hasher'>, TokenOptions, HttpOptions {
  readonly realms: Readonly<Record<string, RealmOptions>>;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  const problem = checkInteger(value, min, max);
  if (problem) fail(name, problem.replace(/got .*$/, `got "${raw}"`));
  return value;
}

function policySetting(setting: string, value: string): string {
  try {
    return parsePasswordPolicy(value).source;
  } catch (error) {
    if (error instanceof PolicySyntaxError) fail(setting, `${error.message} (got "${value}")`);
    throw error;
  }
}

/** What the environment gives every realm. */
interface RealmDefaults {
  /** Keycloak-style base of the issuers: `<base>/realms/<realm>`. */
  readonly base: string | undefined;
  readonly audience: string | undefined;
  readonly passwordPolicy: string;
  /** Where `CONFIG_FILE` is: its relative template folders are read from there. */
  readonly configFile: string | undefined;
  /** `CONSOLE_CLIENT_ID`: every realm has a console with this client, unless its file settings say otherwise. */
  readonly consoleClientId: string | undefined;
}

/** The realms of `REALMS`, each named in the file too must be among them. */
function realmNames(env: NodeJS.ProcessEnv, fileRealms: Readonly<Record<string, FileRealm>>, requireRealms: boolean): string[] {
  const realmList = optional(env, 'REALMS');
  if (realmList === undefined && requireRealms) {
    fail('REALMS', 'is required: a comma-separated list of the realm names to serve, e.g. REALMS=alpha,beta');
  }
  const names = (realmList ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) {
    if (!REALM_NAME.test(name)) fail('REALMS', `"${name}" is not a realm name (1-64 letters, digits, ".", "_" or "-")`);
  }
  for (const name of Object.keys(fileRealms)) {
    if (!names.includes(name)) fail('CONFIG_FILE', `realm "${name}" is configured but not in REALMS (${names.join(', ') || 'empty'})`);
  }
  return names;
}

/** One realm's options: the file's settings over the environment's defaults. */
function realmOptions(name: string, file: FileRealm, defaults: RealmDefaults): RealmOptions {
  const { base, audience, passwordPolicy, configFile, consoleClientId } = defaults;
  const issuer = file.issuer ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/realms/${name}`);
  if (issuer === undefined) {
    fail('OIDC_ISSUER_BASE_URL', `is required unless CONFIG_FILE gives realms.${name}.issuer`);
  }
  for (const key of ['issuer', 'jwksUri'] as const) {
    const value = file[key];
    const problem = value === undefined ? undefined : checkHttpUrl(value);
    if (problem) fail(`CONFIG_FILE: realms.${name}.${key}`, problem);
  }
  return {
    issuer,
    ...(file.jwksUri === undefined ? {} : { jwksUri: file.jwksUri }),
    ...(file.audience ?? audience ? { audience: file.audience ?? audience } : {}),
    passwordPolicy: file.passwordPolicy === undefined ? passwordPolicy : policySetting(`CONFIG_FILE: realms.${name}.passwordPolicy`, file.passwordPolicy),
    ...(file.acceptPlainJwtAccessTokens === undefined ? {} : { acceptPlainJwtAccessTokens: file.acceptPlainJwtAccessTokens }),
    ...(file.revokeTokensOnPasswordChange === undefined ? {} : { revokeTokensOnPasswordChange: file.revokeTokensOnPasswordChange }),
    ...(file.allowedClients === undefined ? {} : { allowedClients: file.allowedClients }),
    ...(file.requiredScopes === undefined ? {} : { requiredScopes: file.requiredScopes }),
    ...(file.maxAuthAge === undefined ? {} : { maxAuthAge: file.maxAuthAge }),
    ...(file.cors === undefined ? {} : { cors: file.cors }),
    ...(file.bruteForce === undefined ? {} : { bruteForce: file.bruteForce }),
    ...(file.requiredRealmRoles === undefined ? {} : { requiredRealmRoles: file.requiredRealmRoles }),
    ...(file.requiredClientRoles === undefined ? {} : { requiredClientRoles: file.requiredClientRoles }),
    ...(file.adminRoles === undefined ? {} : { adminRoles: file.adminRoles }),
    ...(file.loginCheckRole === undefined ? {} : { loginCheckRole: file.loginCheckRole }),
    ...(file.smtp === undefined ? {} : { smtp: file.smtp }),
    ...(file.clients === undefined ? {} : { clients: file.clients }),
    ...(file.recovery === undefined ? {} : { recovery: file.recovery }),
    ...(file.notifyPasswordChange === undefined ? {} : { notifyPasswordChange: file.notifyPasswordChange }),
    ...(file.defaultLocale === undefined ? {} : { defaultLocale: file.defaultLocale }),
    // A relative folder is read from where the file is.
    ...(file.templates === undefined || configFile === undefined ? {} : { templates: resolvePath(dirname(configFile), file.templates) }),
    ...(file.credentialStore === undefined ? {} : { credentialStore: file.credentialStore }),
    ...(file.argon2 === undefined ? {} : { argon2: file.argon2 }),
    ...(file.adminRealm === undefined ? {} : { adminRealm: file.adminRealm }),
    ...consoleOf(file, consoleClientId),
  };
}

/** A realm's console: the file's settings, their client id from `CONSOLE_CLIENT_ID` when they name none. */
function consoleOf(file: FileRealm, clientId: string | undefined): Pick<RealmOptions, 'console'> {
  if (file.console === undefined) return clientId === undefined ? {} : { console: { clientId } };
  return { console: { ...(clientId === undefined ? {} : { clientId }), ...file.console } };
}

/** How realms without a `hashAlgorithm` hash, and argon2's settings, from the environment. */
function hashSettings(env: NodeJS.ProcessEnv): Required<Pick<ServerResources, 'hashAlgorithm' | 'argon2'>> {
  const hashAlgorithm = optional(env, 'HASH_ALGORITHM') ?? DEFAULTS.hashAlgorithm;
  if (!(HASH_ALGORITHMS as readonly string[]).includes(hashAlgorithm)) fail('HASH_ALGORITHM', `must be one of ${HASH_ALGORITHMS.join(', ')}, got "${hashAlgorithm}"`);
  const { argon2Memory, argon2Parallelism } = HASH_SETTING_RANGES;
  const argon2 = Object.freeze({
    memory: integerSetting(env, 'ARGON2_MEMORY', DEFAULTS.argon2Memory, argon2Memory.min, argon2Memory.max),
    parallelism: integerSetting(env, 'ARGON2_PARALLELISM', DEFAULTS.argon2Parallelism, argon2Parallelism.min, argon2Parallelism.max),
  });
  return { hashAlgorithm: hashAlgorithm as HashAlgorithm, argon2 };
}

/**
 * Each realm's hash scheme checked here too (the router checks it again), so
 * that a bad `hashIterations` or `argon2` setting names the variable or file
 * that holds it.
 */
function checkHashSchemes(realms: Readonly<Record<string, RealmOptions>>, file: ConfigFile, service: Required<Pick<ServerResources, 'hashAlgorithm' | 'argon2' | 'bcryptCost'>>): void {
  const defaults = resolveHashDefaults(service, fail);
  for (const [name, realm] of Object.entries(realms)) {
    const fromFile = file.realms[name]?.passwordPolicy !== undefined;
    const names = { policy: fromFile ? `CONFIG_FILE: realms.${name}.passwordPolicy` : 'PASSWORD_POLICY', argon2: `CONFIG_FILE: realms.${name}.argon2` };
    resolveHashScheme(names, parsePasswordPolicy(realm.passwordPolicy ?? ''), realm.argon2, defaults, fail);
  }
}

/** The settings of the service as a whole, from the environment. */
function serviceSettings(
  env: NodeJS.ProcessEnv,
): Pick<ServerConfig, 'port' | 'logLevel'> & Required<Pick<ServerResources, 'hashAlgorithm' | 'argon2' | 'bcryptCost' | 'passwordPolicy' | 'hashQueue'>> {
  // 0 asks the system for a free port (tests, side-by-side instances).
  const port = integerSetting(env, 'PORT', DEFAULTS.port, 0, 65_535);
  const bcryptCost = integerSetting(env, 'BCRYPT_COST', DEFAULTS.bcryptCost, BCRYPT_COST_RANGE.min, BCRYPT_COST_RANGE.max);
  const hashConcurrency = integerSetting(env, 'HASH_CONCURRENCY', defaultHashConcurrency(), 1, 1024);
  if (optional(env, 'HASH_MAX_WAITING') !== undefined) {
    fail('HASH_MAX_WAITING', 'is no longer read: hashes are admitted by time, not by count; set HASH_QUEUE_BUDGET_MS (the most time queued work may need) instead');
  }
  const hashQueueBudgetMs = integerSetting(env, 'HASH_QUEUE_BUDGET_MS', DEFAULTS.hashQueueBudgetMs, 0, 600_000);
  const hashQueueIntervalMs = integerSetting(env, 'HASH_QUEUE_INTERVAL_MS', DEFAULTS.hashQueueIntervalMs, 10, 600_000);
  const logLevel = optional(env, 'LOG_LEVEL') ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) fail('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const passwordPolicy = policySetting('PASSWORD_POLICY', optional(env, 'PASSWORD_POLICY') ?? DEFAULTS.passwordPolicy);
  const hashQueue = Object.freeze({ concurrency: hashConcurrency, budgetMs: hashQueueBudgetMs, intervalMs: hashQueueIntervalMs });
  return { port, logLevel: logLevel as ServerConfig['logLevel'], ...hashSettings(env), bcryptCost, passwordPolicy, hashQueue };
}

/** An http(s) URL setting, or undefined when unset. */
function urlSetting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = optional(env, name);
  const problem = value === undefined ? undefined : checkHttpUrl(value);
  if (problem) fail(name, problem);
  return value;
}

/**
 * Read the configuration from the environment (and the optional `CONFIG_FILE`).
 * `requireRealms: false` lets the CLI's user commands run without `REALMS`.
 *
 * @throws ConfigError with one line naming the bad setting.
 */
export function loadConfig(env: NodeJS.ProcessEnv, options: { requireRealms?: boolean } = {}): ServerConfig {
  const { port, logLevel, ...service } = serviceSettings(env);
  const base = urlSetting(env, 'OIDC_ISSUER_BASE_URL');
  const audience = optional(env, 'OIDC_AUDIENCE');
  const publicUrl = urlSetting(env, 'PUBLIC_URL');
  const configFile = optional(env, 'CONFIG_FILE');
  const file: ConfigFile = configFile === undefined ? { realms: {} } : readConfigFile(configFile);
  const names = realmNames(env, file.realms, options.requireRealms !== false);
  const consoleClientId = optional(env, 'CONSOLE_CLIENT_ID');
  if (consoleClientId !== undefined && /\s/.test(consoleClientId)) fail('CONSOLE_CLIENT_ID', `must be a client id without spaces, got "${consoleClientId}"`);
  const defaults = { base, audience, passwordPolicy: service.passwordPolicy, configFile, consoleClientId };
  const realms = Object.fromEntries(names.map((name) => [name, realmOptions(name, file.realms[name] ?? {}, defaults)]));
  checkHashSchemes(realms, file, service);
  return Object.freeze({
    port,
    mongodbUri: optional(env, 'MONGODB_URI'),
    logLevel,
    resources: Object.freeze({
      realms,
      ...service,
      ...(publicUrl === undefined ? {} : { publicUrl }),
      ...('eventRetentionDays' in file ? { eventRetentionDays: file.eventRetentionDays } : {}),
      ...('trustedProxies' in file ? { trustedProxies: file.trustedProxies } : {}),
    }),
  });
}
