/**
 * `CONFIG_FILE`: JSON or YAML with what differs per realm, and two
 * service-wide settings. Shapes are checked here; values, with teaching
 * messages, by the router's options (`options.realms.<realm>.<key>`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { unknownKeys } from '../domain/did-you-mean';
import { ConfigError, failSetting as fail } from './config-error';
import type { RealmOptions } from './realm-options';

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
  argon2: "argon2's memory (KiB) and parallelism",
  console: 'the admin console (clientId, issuer, scope)',
} as const;
const FILE_REALM_LISTS = ['allowedClients', 'requiredScopes', 'requiredRealmRoles'] as const;
const FILE_REALM_INTEGERS = ['maxAuthAge'] as const;
const FILE_REALM_KEYS = [...FILE_REALM_STRINGS, ...FILE_REALM_BOOLEANS, ...FILE_REALM_LISTS, ...FILE_REALM_INTEGERS, ...Object.keys(FILE_REALM_OBJECTS), 'cors', 'requiredClientRoles', 'credentialStore', 'adminRealm'];
export type FileRealm = Partial<
  Record<(typeof FILE_REALM_STRINGS)[number], string> &
    Record<(typeof FILE_REALM_BOOLEANS)[number], boolean> &
    Record<(typeof FILE_REALM_LISTS)[number], string[]> &
    Record<(typeof FILE_REALM_INTEGERS)[number], number> &
    Pick<RealmOptions, keyof typeof FILE_REALM_OBJECTS> & { cors: { origins: string[] }; requiredClientRoles: Record<string, string[]>; credentialStore: RealmOptions['credentialStore']; adminRealm: string | false }
>;

/** What a CONFIG_FILE holds: per-realm settings, and two service-wide ones. */
export interface ConfigFile {
  readonly realms: Record<string, FileRealm>;
  readonly eventRetentionDays?: number;
  readonly trustedProxies?: string[];
}

/** The file's document: an object, read as YAML (a superset of JSON, so one parser reads both). */
function parseFile(path: string): object {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    fail('CONFIG_FILE', `cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    fail('CONFIG_FILE', `"${path}" is neither JSON nor YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    fail('CONFIG_FILE', `"${path}" must hold an object with a "realms" key`);
  }
  return document;
}

/** The two service-wide settings a file may hold. */
function serviceWide(document: object): Omit<ConfigFile, 'realms'> {
  const { eventRetentionDays, trustedProxies } = document as { eventRetentionDays?: unknown; trustedProxies?: unknown };
  if (eventRetentionDays !== undefined && (!Number.isInteger(eventRetentionDays) || (eventRetentionDays as number) < 1)) {
    fail('CONFIG_FILE', `eventRetentionDays must be a positive number of days, got ${JSON.stringify(eventRetentionDays)}`);
  }
  if (trustedProxies !== undefined && (!Array.isArray(trustedProxies) || !trustedProxies.every((item) => typeof item === 'string'))) {
    fail('CONFIG_FILE', `trustedProxies must be a list like [loopback, 10.0.0.0/8], got ${JSON.stringify(trustedProxies)}`);
  }
  return {
    ...(eventRetentionDays === undefined ? {} : { eventRetentionDays: eventRetentionDays as number }),
    ...(trustedProxies === undefined ? {} : { trustedProxies }),
  };
}

/** Check the type of one realm setting (`at` is `CONFIG_FILE: realms.<name>`). */
function checkSetting(at: string, key: string, value: unknown): void {
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
  } else if (key === 'adminRealm') {
    if (value !== false && (typeof value !== 'string' || value === '')) throw new ConfigError(`${at}.adminRealm: must be a realm name (e.g. master) or false, got ${JSON.stringify(value)}`);
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

/** Each realm's settings, their shapes checked. */
function fileRealms(realms: unknown): Record<string, FileRealm> {
  if (typeof realms !== 'object' || realms === null || Array.isArray(realms)) fail('CONFIG_FILE', '"realms" must map realm names to settings');
  const result: Record<string, FileRealm> = {};
  for (const [name, settings] of Object.entries(realms as Record<string, unknown>)) {
    const at = `CONFIG_FILE: realms.${name}`;
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new ConfigError(`${at}: must be an object`);
    const unknown = unknownKeys(settings, FILE_REALM_KEYS);
    if (unknown.length > 0) throw new ConfigError(`${at}: unknown setting ${unknown.join(', ')}; known: ${FILE_REALM_KEYS.join(', ')}`);
    for (const [key, value] of Object.entries(settings)) checkSetting(at, key, value);
    result[name] = settings;
  }
  return result;
}

/** Read and check `CONFIG_FILE`. @throws ConfigError naming the file and the setting. */
export function readConfigFile(path: string): ConfigFile {
  const document = parseFile(path);
  const extra = unknownKeys(document, ['realms', 'eventRetentionDays', 'trustedProxies']);
  if (extra.length > 0) fail('CONFIG_FILE', `unknown top-level key ${extra.join(', ')}; expected "realms", "eventRetentionDays" or "trustedProxies"`);
  const wide = serviceWide(document);
  return { realms: fileRealms((document as { realms?: unknown }).realms ?? {}), ...wide };
}
