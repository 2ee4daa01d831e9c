import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BCRYPT_COST_RANGE } from '../domain/hashing';
import { parsePasswordPolicy, PolicySyntaxError } from '../domain/policy';
import { unknownKeys } from '../domain/did-you-mean';
import { checkHttpUrl, checkInteger, REALM_NAME } from './checks';
import type { DatabaseOptions } from './database-options';
import { defaultHashConcurrency, DEFAULTS, LOG_LEVELS } from './defaults';
import type { HttpOptions } from './http-options';
import type { PasswordOptions } from './password-options';
import type { RealmOptions } from './realm-options';
import type { TokenOptions } from './token-options';

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

/** One clear line naming the setting, its value and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function fail(setting: string, problem: string): never {
  throw new ConfigError(`${setting}: ${problem}`);
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

/** The per-realm settings a CONFIG_FILE may hold, by the type of their values. */
const FILE_REALM_STRINGS = ['issuer', 'jwksUri', 'audience', 'passwordPolicy', 'templates', 'defaultLocale', 'loginCheckRole'] as const;
const FILE_REALM_BOOLEANS = ['revokeTokensOnPasswordChange', 'notifyPasswordChange', 'acceptPlainJwtAccessTokens'] as const;
/** Objects checked, with teaching messages, by the router's options (options.realms.<realm>.<key>). */
const FILE_REALM_OBJECTS = {
  bruteForce: "Keycloak's brute force settings",
  adminRoles: 'role names (view, manage, viewEvents, manageRealm)',
  smtp: "Keycloak's SMTP settings (host, port, from, ...)",
  clients: 'client ids, each with its redirectUris',
  recovery: 'recovery settings (lifespans, codeAttempts, perAddress, perIp)',
} as const;
const FILE_REALM_LISTS = ['allowedClients', 'requiredScopes', 'requiredRealmRoles'] as const;
const FILE_REALM_INTEGERS = ['maxAuthAge'] as const;
const FILE_REALM_KEYS = [...FILE_REALM_STRINGS, ...FILE_REALM_BOOLEANS, ...FILE_REALM_LISTS, ...FILE_REALM_INTEGERS, ...Object.keys(FILE_REALM_OBJECTS), 'cors', 'requiredClientRoles', 'credentialStore'];
type FileRealm = Partial<
  Record<(typeof FILE_REALM_STRINGS)[number], string> &
    Record<(typeof FILE_REALM_BOOLEANS)[number], boolean> &
    Record<(typeof FILE_REALM_LISTS)[number], string[]> &
    Record<(typeof FILE_REALM_INTEGERS)[number], number> &
    Pick<RealmOptions, keyof typeof FILE_REALM_OBJECTS> & { cors: { origins: string[] }; requiredClientRoles: Record<string, string[]>; credentialStore: RealmOptions['credentialStore'] }
>;

/** What a CONFIG_FILE holds: per-realm settings, and two service-wide ones. */
interface ConfigFile {
  readonly realms: Record<string, FileRealm>;
  readonly eventRetentionDays?: number;
  readonly trustedProxies?: string[];
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    fail('CONFIG_FILE', `cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let document: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    document = parseYaml(text);
  } catch (error) {
    fail('CONFIG_FILE', `"${path}" is neither JSON nor YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    fail('CONFIG_FILE', `"${path}" must hold an object with a "realms" key`);
  }
  const extra = unknownKeys(document, ['realms', 'eventRetentionDays', 'trustedProxies']);
  if (extra.length > 0) fail('CONFIG_FILE', `unknown top-level key ${extra.join(', ')}; expected "realms", "eventRetentionDays" or "trustedProxies"`);
  const { eventRetentionDays, trustedProxies } = document as { eventRetentionDays?: unknown; trustedProxies?: unknown };
  if (eventRetentionDays !== undefined && (!Number.isInteger(eventRetentionDays) || (eventRetentionDays as number) < 1)) {
    fail('CONFIG_FILE', `eventRetentionDays must be a positive number of days, got ${JSON.stringify(eventRetentionDays)}`);
  }
  if (trustedProxies !== undefined && (!Array.isArray(trustedProxies) || !trustedProxies.every((item) => typeof item === 'string'))) {
    fail('CONFIG_FILE', `trustedProxies must be a list like [loopback, 10.0.0.0/8], got ${JSON.stringify(trustedProxies)}`);
  }
  const realms: unknown = (document as { realms?: unknown }).realms ?? {};
  if (typeof realms !== 'object' || realms === null || Array.isArray(realms)) fail('CONFIG_FILE', '"realms" must map realm names to settings');
  const result: Record<string, FileRealm> = {};
  for (const [name, settings] of Object.entries(realms as Record<string, unknown>)) {
    const at = `CONFIG_FILE: realms.${name}`;
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new ConfigError(`${at}: must be an object`);
    const unknown = unknownKeys(settings, FILE_REALM_KEYS);
    if (unknown.length > 0) throw new ConfigError(`${at}: unknown setting ${unknown.join(', ')}; known: ${FILE_REALM_KEYS.join(', ')}`);
    for (const [key, value] of Object.entries(settings)) {
      if ((FILE_REALM_BOOLEANS as readonly string[]).includes(key)) {
        if (typeof value !== 'boolean') throw new ConfigError(`${at}.${key}: must be true or false, got ${JSON.stringify(value)}`);
      } else if ((FILE_REALM_LISTS as readonly string[]).includes(key)) {
        if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
          throw new ConfigError(`${at}.${key}: must be a list of names, got ${JSON.stringify(value)}`);
        }
      } else if (key === 'requiredClientRoles') {
        const valid =
          typeof value === 'object' && value !== null && !Array.isArray(value) &&
          Object.values(value as Record<string, unknown>).every((roles) => Array.isArray(roles) && roles.every((role) => typeof role === 'string'));
        if (!valid) throw new ConfigError(`${at}.requiredClientRoles: must map client ids to lists of roles, got ${JSON.stringify(value)}`);
      } else if (key in FILE_REALM_OBJECTS) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          throw new ConfigError(`${at}.${key}: must be an object of ${FILE_REALM_OBJECTS[key as keyof typeof FILE_REALM_OBJECTS]}`);
        }
      } else if (key === 'credentialStore') {
        // Checked, with teaching messages, by the router's options (options.realms.<realm>.credentialStore).
        if (value !== 'mongodb' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
          throw new ConfigError(`${at}.credentialStore: must be mongodb or { type: keycloak, clientId, clientSecret, serverUrl, realm }, got ${JSON.stringify(value)}`);
        }
      } else if (key === 'cors') {
        const origins: unknown = typeof value === 'object' && value !== null ? (value as { origins?: unknown }).origins : undefined;
        if (!Array.isArray(origins) || !origins.every((item) => typeof item === 'string')) {
          throw new ConfigError(`${at}.cors: must be { origins: [list of origins] }, got ${JSON.stringify(value)}`);
        }
      } else if ((FILE_REALM_INTEGERS as readonly string[]).includes(key)) {
        if (!Number.isInteger(value) || (value as number) < 1) throw new ConfigError(`${at}.${key}: must be a positive integer (seconds), got ${JSON.stringify(value)}`);
      } else if (typeof value !== 'string' || value === '') {
        throw new ConfigError(`${at}.${key}: must be a non-empty string, got ${JSON.stringify(value)}`);
      }
    }
    result[name] = settings;
  }
  return {
    realms: result,
    ...(eventRetentionDays === undefined ? {} : { eventRetentionDays: eventRetentionDays as number }),
    ...(trustedProxies === undefined ? {} : { trustedProxies }),
  };
}

/**
 * Read the configuration from the environment (and the optional `CONFIG_FILE`).
 * `requireRealms: false` lets the CLI's user commands run without `REALMS`.
 *
 * @throws ConfigError with one line naming the bad setting.
 */
export function loadConfig(env: NodeJS.ProcessEnv, options: { requireRealms?: boolean } = {}): ServerConfig {
  // 0 asks the system for a free port (tests, side-by-side instances).
  const port = integerSetting(env, 'PORT', DEFAULTS.port, 0, 65_535);
  const bcryptCost = integerSetting(env, 'BCRYPT_COST', DEFAULTS.bcryptCost, BCRYPT_COST_RANGE.min, BCRYPT_COST_RANGE.max);
  const hashConcurrency = integerSetting(env, 'HASH_CONCURRENCY', defaultHashConcurrency(), 1, 1024);
  const hashMaxWaiting = integerSetting(env, 'HASH_MAX_WAITING', DEFAULTS.hashWaitingPerSlot * hashConcurrency, 0, 1_000_000);
  const logLevel = optional(env, 'LOG_LEVEL') ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) fail('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const passwordPolicy = policySetting('PASSWORD_POLICY', optional(env, 'PASSWORD_POLICY') ?? DEFAULTS.passwordPolicy);

  const base = optional(env, 'OIDC_ISSUER_BASE_URL');
  if (base !== undefined) {
    const problem = checkHttpUrl(base);
    if (problem) fail('OIDC_ISSUER_BASE_URL', problem);
  }
  const audience = optional(env, 'OIDC_AUDIENCE');
  const publicUrl = optional(env, 'PUBLIC_URL');
  const publicUrlProblem = publicUrl === undefined ? undefined : checkHttpUrl(publicUrl);
  if (publicUrlProblem) fail('PUBLIC_URL', publicUrlProblem);
  const configFile = optional(env, 'CONFIG_FILE');
  const file = configFile === undefined ? { realms: {} } : readConfigFile(configFile);
  const fileRealms = file.realms;

  const realmList = optional(env, 'REALMS');
  if (realmList === undefined && options.requireRealms !== false) {
    fail('REALMS', 'is required: a comma-separated list of the realm names to serve, e.g. REALMS=alpha,beta');
  }
  const names = (realmList ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) {
    if (!REALM_NAME.test(name)) fail('REALMS', `"${name}" is not a realm name (1-64 letters, digits, ".", "_" or "-")`);
  }
  for (const name of Object.keys(fileRealms)) {
    if (!names.includes(name)) fail('CONFIG_FILE', `realm "${name}" is configured but not in REALMS (${names.join(', ') || 'empty'})`);
  }

  const realms: Record<string, RealmOptions> = {};
  for (const name of names) {
    const file = fileRealms[name] ?? {};
    const issuer = file.issuer ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/realms/${name}`);
    if (issuer === undefined) {
      fail('OIDC_ISSUER_BASE_URL', `is required unless CONFIG_FILE gives realms.${name}.issuer`);
    }
    for (const key of ['issuer', 'jwksUri'] as const) {
      const value = file[key];
      const problem = value === undefined ? undefined : checkHttpUrl(value);
      if (problem) fail(`CONFIG_FILE: realms.${name}.${key}`, problem);
    }
    realms[name] = {
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
    };
  }

  return Object.freeze({
    port,
    mongodbUri: optional(env, 'MONGODB_URI'),
    logLevel: logLevel as ServerConfig['logLevel'],
    resources: Object.freeze({
      realms,
      bcryptCost,
      passwordPolicy,
      ...(publicUrl === undefined ? {} : { publicUrl }),
      hashQueue: Object.freeze({ concurrency: hashConcurrency, maxWaiting: hashMaxWaiting }),
      ...('eventRetentionDays' in file ? { eventRetentionDays: file.eventRetentionDays } : {}),
      ...('trustedProxies' in file ? { trustedProxies: file.trustedProxies } : {}),
    }),
  });
}
