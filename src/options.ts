import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { JwksOptions, TokenTrust } from './auth/token-verifier';
import { checkHttpUrl, checkInteger, REALM_NAME } from './config/checks';
import { unknownKeys } from './domain/did-you-mean';
import { defaultHashConcurrency, DEFAULTS } from './config/defaults';
import { DEFAULT_LOCALE, LOCALES, resolveClients, resolveRecovery, resolveSmtp, resolveTemplateFolder } from './config/email-options';
import type { ClientOptions, RecoveryOptions, ResolvedRecovery, ResolvedSmtp, SmtpOptions } from './config/email-options';
import type { HashQueueLimits } from './domain/hash-queue';
import type { PasswordHasher } from './domain/hashing';
import { BCRYPT_COST_RANGE } from './domain/hashing';
import { parsePasswordPolicy, PolicySyntaxError } from './domain/policy';
import type { PasswordPolicy } from './domain/policy';
import { DEFAULT_BRUTE_FORCE } from './domain/lockout';
import type { BruteForceSettings } from './domain/lockout';

/** Settings of one realm. */
export interface RealmOptions {
  /** The exact `iss` of the realm's tokens, e.g. `https://idp.example/realms/alpha`. */
  readonly issuer: string;
  /** Where the realm's keys are published. Default: Keycloak's `<issuer>/protocol/openid-connect/certs`. */
  readonly jwksUri?: string;
  /** When set, the token's `aud` must contain it. Default: unset (not checked). */
  readonly audience?: string;
  /**
   * Accept access tokens typed only as plain `JWT`, without a payload `typ`:
   * what Auth0 and Okta issue. Such a token looks like an ID token, so this
   * needs `audience` (your API's identifier, which ID tokens do not carry).
   * Default: false: only `at+jwt` (RFC 9068) and Keycloak's access tokens
   * (payload `typ: "Bearer"`) are accepted.
   */
  readonly acceptPlainJwtAccessTokens?: boolean;
  /** Keycloak policy string. Default: the top-level `passwordPolicy`. */
  readonly passwordPolicy?: string;
  /**
   * Refuse tokens issued at or before the second of the user's last password
   * change (`iat` has one-second granularity). Default: true.
   */
  readonly revokeTokensOnPasswordChange?: boolean;
  /** When set, the token's `azp` (the client it was issued to) must be one of these. Default: any client. */
  readonly allowedClients?: readonly string[];
  /** Scopes the token's `scope` must all contain. Default: none. */
  readonly requiredScopes?: readonly string[];
  /** Realm roles the token's `realm_access.roles` must all contain (Keycloak's layout). Default: none. */
  readonly requiredRealmRoles?: readonly string[];
  /** Client roles, by client id, the token's `resource_access.<client>.roles` must contain. Default: none. */
  readonly requiredClientRoles?: Readonly<Record<string, readonly string[]>>;
  /**
   * Seconds: `reset-password` needs a token whose `auth_time` is this recent
   * (Keycloak's `maxAuthAge`; RFC 9470 step-up). Default: unset (not checked).
   */
  readonly maxAuthAge?: number;
  /** Browser origins (`https://app.example`) allowed to call the account API (CORS). Default: none. */
  readonly cors?: { readonly origins: readonly string[] };
  /** Brute force detection, Keycloak's settings; each unset one takes `DEFAULT_BRUTE_FORCE`'s value. */
  readonly bruteForce?: Partial<BruteForceSettings>;
  /**
   * The roles the admin API asks of a token, found as client roles of
   * `realm-management` (Keycloak's layout), realm roles or scopes of that
   * name. Default: Keycloak's `view-users`, `manage-users` (which includes
   * viewing), `view-events` and `manage-realm`.
   */
  readonly adminRoles?: Partial<AdminRoles>;
  /** Where mail goes out, Keycloak's field names. Default: none (the email flows answer 400). */
  readonly smtp?: SmtpOptions;
  /** Clients and the redirect URIs their links may return to (execute-actions-email, tickets, forgot-password). */
  readonly clients?: Readonly<Record<string, ClientOptions>>;
  /** Lifespans and rate limits of reset links and codes. */
  readonly recovery?: RecoveryOptions;
  /** A folder whose `email/<locale>/...` and `pages/...` files replace the shipped templates. */
  readonly templates?: string;
  /** The language of mails to users without a `locale`: `en` or `de`. Default: `en`. */
  readonly defaultLocale?: string;
  /** Mail the user when their password changes (by them, an admin or a reset). Default: true. */
  readonly notifyPasswordChange?: boolean;
  /**
   * Where the realm's passwords live: `'mongodb'` (ours, hashed with bcrypt),
   * or Keycloak itself (sidecar mode): `validate-password` and
   * `reset-password` then check and set the password stored in Keycloak, while
   * lockout, revocation and audit stay in our database. Default: `'mongodb'`.
   *
   * @example
   * credentialStore: { type: 'keycloak', clientId: 'password-resources', clientSecret: process.env.KC_SECRET }
   */
  readonly credentialStore?: 'mongodb' | KeycloakCredentialStoreOptions;
}

/** Keycloak as a realm's credential store (sidecar mode). */
export interface KeycloakCredentialStoreOptions {
  readonly type: 'keycloak';
  /** Keycloak's base URL, before `/realms`. Default: the realm's issuer up to `/realms/<name>`. */
  readonly serverUrl?: string;
  /** The Keycloak realm. Default: the last segment of the realm's issuer. */
  readonly realm?: string;
  /**
   * A confidential client of that realm with "Direct access grants" on and a
   * service account holding `realm-management`'s `view-users` and `manage-users`.
   */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Deadline of each call to Keycloak, in ms. Default: 5000. */
  readonly timeoutMs?: number;
}

/** A realm's credential store, resolved. */
export type ResolvedCredentialStore =
  | { readonly type: 'mongodb' }
  | { readonly type: 'keycloak'; readonly serverUrl: string; readonly realm: string; readonly clientId: string; readonly clientSecret: string; readonly timeoutMs: number };

/** The roles of the admin API. */
export interface AdminRoles {
  /** Reading users, their credentials' metadata and brute force state. */
  readonly view: string;
  /** Changing them; includes `view`. */
  readonly manage: string;
  /** Reading events and admin events. */
  readonly viewEvents: string;
  /** Realm settings: testing the SMTP connection. */
  readonly manageRealm: string;
}

export const DEFAULT_ADMIN_ROLES: AdminRoles = Object.freeze({ view: 'view-users', manage: 'manage-users', viewEvents: 'view-events', manageRealm: 'manage-realm' });

/** Options of `createPasswordResources`. */
export interface PasswordResourcesOptions {
  /** The realms served, by name. At least one. */
  readonly realms: Readonly<Record<string, RealmOptions>>;
  /** A mongoose connection owned by the host; `close()` leaves it open. Give this or `mongodbUri`. */
  readonly connection?: Connection;
  /** A MongoDB URI; the router opens its own connection and `close()` closes it. */
  readonly mongodbUri?: string;
  /** bcrypt work factor, 10 to 15. Default: 12. */
  readonly bcryptCost?: number;
  /** Policy of realms that set none. Default: `length(8) and maxLength(128)` (NIST SP 800-63B). */
  readonly passwordPolicy?: string;
  /** Seconds of clock skew allowed on `exp`, `nbf`, `iat`. Default: 30. */
  readonly clockToleranceSeconds?: number;
  /** Key set fetching. Defaults: timeout 5 s, cooldown 30 s, max age 10 min. */
  readonly jwks?: Partial<JwksOptions>;
  /**
   * Where browsers reach this router, e.g. `https://auth.example/gateway`: the
   * base of the links in mails. Required for the email flows; never taken from
   * a request's Host header (a forged host would send users elsewhere).
   */
  readonly publicUrl?: string;
  /** Largest JSON body accepted, in bytes. Default: 16384. */
  readonly bodyLimitBytes?: number;
  /** Where errors and events are logged. Default: a pino logger at `info` on stdout. */
  readonly logger?: Logger;
  /**
   * Proxies whose `X-Forwarded-For` is believed for the client IP of audit
   * events, in Express's `trust proxy` forms (`loopback`, `10.0.0.0/8`, ...).
   * Default: none, the socket's peer is the client.
   */
  readonly trustedProxies?: readonly string[];
  /** Deadline of each database operation of a connection the router opens, in ms. Default: 5000. */
  readonly databaseTimeoutMs?: number;
  /** Days audit events are kept (a TTL index). Default: 90. */
  readonly eventRetentionDays?: number;
  /** Replaces the bcrypt hasher (to instrument it). Default: bcrypt at `bcryptCost`. It runs behind the hash queue too. */
  readonly hasher?: PasswordHasher;
  /**
   * The bounded queue every hash goes through: at most `concurrency` run at
   * once and `maxWaiting` wait; more get `503 temporarily_unavailable` with
   * `Retry-After` at once. Defaults: `concurrency` the number of cores,
   * `maxWaiting` twice `concurrency`. Set `UV_THREADPOOL_SIZE` to more than
   * `concurrency` (the `serve` command does), or bcrypt waits in libuv's pool of 4.
   */
  readonly hashQueue?: { readonly concurrency?: number; readonly maxWaiting?: number };
}

/** A realm as the router uses it: nothing optional. */
export interface ResolvedRealm extends TokenTrust {
  readonly name: string;
  readonly policy: PasswordPolicy;
  readonly revokeTokensOnPasswordChange: boolean;
  readonly allowedClients: readonly string[] | undefined;
  readonly requiredScopes: readonly string[];
  readonly requiredRealmRoles: readonly string[];
  readonly requiredClientRoles: Readonly<Record<string, readonly string[]>>;
  readonly maxAuthAge: number | undefined;
  readonly corsOrigins: readonly string[];
  readonly bruteForce: BruteForceSettings;
  readonly adminRoles: AdminRoles;
  readonly smtp: ResolvedSmtp | undefined;
  /** Redirect URIs by client id. */
  readonly clients: ReadonlyMap<string, readonly string[]>;
  readonly recovery: ResolvedRecovery;
  readonly templates: string | undefined;
  readonly defaultLocale: string;
  readonly notifyPasswordChange: boolean;
  readonly credentialStore: ResolvedCredentialStore;
}

/** Options checked and completed. */
export interface ResolvedOptions {
  readonly realms: ReadonlyMap<string, ResolvedRealm>;
  readonly database: { readonly connection: Connection } | { readonly uri: string };
  readonly bcryptCost: number;
  readonly clockToleranceSeconds: number;
  readonly jwks: JwksOptions;
  readonly bodyLimitBytes: number;
  readonly publicUrl: string | undefined;
  readonly logger: Logger | undefined;
  readonly hasher: PasswordHasher | undefined;
  readonly hashQueue: HashQueueLimits;
  readonly trustedProxies: readonly string[];
  readonly eventRetentionDays: number;
  readonly databaseTimeoutMs: number;
}

/** Thrown when options are wrong; the message names the option, the value and the fix. */
export class OptionsError extends Error {
  override name = 'OptionsError';
}

const OPTION_NAMES = [
  'realms', 'connection', 'mongodbUri', 'bcryptCost', 'passwordPolicy', 'clockToleranceSeconds', 'jwks', 'bodyLimitBytes', 'logger', 'hasher',
  'trustedProxies', 'eventRetentionDays', 'databaseTimeoutMs', 'publicUrl', 'hashQueue',
];
const REALM_OPTION_NAMES = ['issuer', 'jwksUri', 'audience', 'acceptPlainJwtAccessTokens', 'passwordPolicy', 'revokeTokensOnPasswordChange', 'allowedClients', 'requiredScopes', 'requiredRealmRoles', 'requiredClientRoles', 'maxAuthAge', 'cors', 'bruteForce', 'adminRoles', 'smtp', 'clients', 'recovery', 'templates', 'defaultLocale', 'notifyPasswordChange', 'credentialStore'];
const KEYCLOAK_STORE_OPTION_NAMES = ['type', 'serverUrl', 'realm', 'clientId', 'clientSecret', 'timeoutMs'];
const JWKS_OPTION_NAMES = ['timeoutMs', 'cooldownMs', 'cacheMaxAgeMs'];
const HASH_QUEUE_OPTION_NAMES = ['concurrency', 'maxWaiting'];

function fail(name: string, problem: string): never {
  throw new OptionsError(`${name}: ${problem}`);
}

function unknown(name: string, object: object, known: readonly string[]): void {
  const extra = unknownKeys(object, known);
  if (extra.length > 0) fail(name, `unknown ${extra.length === 1 ? 'option' : 'options'} ${extra.join(', ')}`);
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const resolved = value ?? fallback;
  const problem = checkInteger(resolved, min, max);
  if (problem) fail(name, problem);
  return resolved;
}

function isNameList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && /^\S+$/.test(item));
}

function nameList(name: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!isNameList(value)) fail(name, `must be a non-empty list of names without spaces, got ${JSON.stringify(value)}`);
  return Object.freeze([...value]);
}

/** Origins exactly as browsers send them: scheme, host, optional port; no path, no wildcard. */
function corsOrigins(name: string, cors: RealmOptions['cors']): readonly string[] {
  if (cors === undefined) return [];
  unknown(name, cors, ['origins']);
  const origins = nameList(`${name}.origins`, cors.origins) ?? [];
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed?.origin !== origin) fail(`${name}.origins`, `"${origin}" is not an origin; write it as a browser sends it, e.g. "https://app.example"`);
  }
  return origins;
}

function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const problem = checkHttpUrl(value);
  if (problem) fail('options.publicUrl', problem);
  return value.replace(/\/+$/, '');
}

function locale(name: string, value: string | undefined): string {
  if (value === undefined) return DEFAULT_LOCALE;
  if (!LOCALES.includes(value)) fail(name, `must be one of ${LOCALES.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

function boolean(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(name, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function adminRoles(name: string, given: Partial<AdminRoles> | undefined): AdminRoles {
  const roles = { ...DEFAULT_ADMIN_ROLES, ...given };
  unknown(name, roles, Object.keys(DEFAULT_ADMIN_ROLES));
  for (const [key, role] of Object.entries(roles)) {
    if (!isNameList([role])) fail(`${name}.${key}`, `must be a role name without spaces, got ${JSON.stringify(role)}`);
  }
  return Object.freeze(roles);
}

function bruteForce(name: string, given: Partial<BruteForceSettings> | undefined): BruteForceSettings {
  const settings = { ...DEFAULT_BRUTE_FORCE, ...given };
  unknown(name, settings, Object.keys(DEFAULT_BRUTE_FORCE));
  const int = (key: keyof BruteForceSettings, min: number, max: number): number => integer(`${name}.${key}`, settings[key] as number, 0, min, max);
  if (typeof settings.permanentLockout !== 'boolean') fail(`${name}.permanentLockout`, `must be true or false, got ${JSON.stringify(settings.permanentLockout)}`);
  return Object.freeze({
    failureFactor: int('failureFactor', 1, 10_000),
    waitIncrementSeconds: int('waitIncrementSeconds', 0, 86_400),
    maxFailureWaitSeconds: int('maxFailureWaitSeconds', 0, 86_400 * 30),
    failureResetTimeSeconds: int('failureResetTimeSeconds', 1, 86_400 * 30),
    quickLoginCheckMilliSeconds: int('quickLoginCheckMilliSeconds', 0, 60_000),
    minimumQuickLoginWaitSeconds: int('minimumQuickLoginWaitSeconds', 0, 86_400),
    permanentLockout: settings.permanentLockout,
    maxTemporaryLockouts: int('maxTemporaryLockouts', 0, 1_000),
  });
}

function credentialStore(name: string, given: RealmOptions['credentialStore'], issuer: string): ResolvedCredentialStore {
  if (given === undefined || given === 'mongodb') return Object.freeze({ type: 'mongodb' });
  if ((given as unknown) === 'keycloak') {
    fail(name, '"keycloak" needs the client it acts as: { type: "keycloak", clientId: "...", clientSecret: "..." } (serverUrl and realm default from the issuer)');
  }
  if (typeof given !== 'object' || (given as { type?: unknown }).type !== 'keycloak') {
    fail(name, `must be "mongodb" or { type: "keycloak", clientId, clientSecret, serverUrl?, realm?, timeoutMs? }, got ${JSON.stringify(given)}`);
  }
  unknown(name, given, KEYCLOAK_STORE_OPTION_NAMES);
  // Keycloak's issuers are <server>/realms/<realm>: both default from it.
  const fromIssuer = /^(.*)\/realms\/([^/]+)\/?$/.exec(issuer);
  const serverUrl = given.serverUrl ?? fromIssuer?.[1];
  const realm = given.realm ?? (fromIssuer?.[2] === undefined ? undefined : decodeURIComponent(fromIssuer[2]));
  if (serverUrl === undefined) fail(`${name}.serverUrl`, `is required: the issuer "${issuer}" is not Keycloak's <server>/realms/<realm>`);
  const serverProblem = checkHttpUrl(serverUrl);
  if (serverProblem) fail(`${name}.serverUrl`, serverProblem);
  if (realm === undefined || realm === '') fail(`${name}.realm`, `is required: the issuer "${issuer}" is not Keycloak's <server>/realms/<realm>`);
  for (const key of ['clientId', 'clientSecret'] as const) {
    if (typeof given[key] !== 'string' || given[key] === '') fail(`${name}.${key}`, `must be a non-empty string (the confidential client's ${key === 'clientId' ? 'id' : 'secret'})`);
  }
  return Object.freeze({
    type: 'keycloak',
    serverUrl: serverUrl.replace(/\/+$/, ''),
    realm,
    clientId: given.clientId,
    clientSecret: given.clientSecret,
    timeoutMs: integer(`${name}.timeoutMs`, given.timeoutMs, DEFAULTS.keycloakTimeoutMs, 100, 60_000),
  });
}

function policy(name: string, source: string): PasswordPolicy {
  try {
    return parsePasswordPolicy(source);
  } catch (error) {
    if (error instanceof PolicySyntaxError) fail(name, error.message);
    throw error;
  }
}

/** Check options up front and return them complete and frozen. */
export function resolveOptions(options: PasswordResourcesOptions): ResolvedOptions {
  unknown('options', options, OPTION_NAMES);
  const names = Object.keys(options.realms);
  if (names.length === 0) fail('options.realms', 'must name at least one realm');
  const defaultPolicy = options.passwordPolicy ?? DEFAULTS.passwordPolicy;
  policy('options.passwordPolicy', defaultPolicy);

  const realms = new Map<string, ResolvedRealm>();
  for (const name of names) {
    const at = `options.realms.${name}`;
    if (!REALM_NAME.test(name)) fail(at, `realm names are 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    const realm = options.realms[name];
    if (!realm) continue;
    unknown(at, realm, REALM_OPTION_NAMES);
    const issuerProblem = typeof realm.issuer === 'string' ? checkHttpUrl(realm.issuer) : 'is required (the exact "iss" of the realm\'s tokens)';
    if (issuerProblem) fail(`${at}.issuer`, issuerProblem);
    const jwksUri = realm.jwksUri ?? `${realm.issuer.replace(/\/+$/, '')}/protocol/openid-connect/certs`;
    const jwksProblem = checkHttpUrl(jwksUri);
    if (jwksProblem) fail(`${at}.jwksUri`, jwksProblem);
    if (realm.audience !== undefined && (typeof realm.audience !== 'string' || realm.audience === '')) {
      fail(`${at}.audience`, `must be a non-empty string, got ${JSON.stringify(realm.audience)}`);
    }
    const acceptPlainJwtAccessTokens = boolean(`${at}.acceptPlainJwtAccessTokens`, realm.acceptPlainJwtAccessTokens, false);
    if (acceptPlainJwtAccessTokens && realm.audience === undefined) {
      fail(
        `${at}.acceptPlainJwtAccessTokens`,
        `needs ${at}.audience: an ID token is a plain JWT too, and only the audience (your API's identifier, e.g. Auth0's API audience) tells an access token from it`,
      );
    }
    if (realm.revokeTokensOnPasswordChange !== undefined && typeof realm.revokeTokensOnPasswordChange !== 'boolean') {
      fail(`${at}.revokeTokensOnPasswordChange`, `must be true or false, got ${JSON.stringify(realm.revokeTokensOnPasswordChange)}`);
    }
    realms.set(name, Object.freeze({
      name,
      issuer: realm.issuer,
      jwksUri,
      audience: realm.audience,
      acceptPlainJwtAccessTokens,
      policy: policy(`${at}.passwordPolicy`, realm.passwordPolicy ?? defaultPolicy),
      revokeTokensOnPasswordChange: realm.revokeTokensOnPasswordChange ?? DEFAULTS.revokeTokensOnPasswordChange,
      allowedClients: nameList(`${at}.allowedClients`, realm.allowedClients),
      requiredScopes: nameList(`${at}.requiredScopes`, realm.requiredScopes) ?? [],
      requiredRealmRoles: nameList(`${at}.requiredRealmRoles`, realm.requiredRealmRoles) ?? [],
      requiredClientRoles: Object.freeze(
        Object.fromEntries(
          Object.entries(realm.requiredClientRoles ?? {}).map(([client, roles]) => [client, nameList(`${at}.requiredClientRoles.${client}`, roles) ?? []]),
        ),
      ),
      maxAuthAge: realm.maxAuthAge === undefined ? undefined : integer(`${at}.maxAuthAge`, realm.maxAuthAge, 0, 1, 86_400),
      corsOrigins: corsOrigins(`${at}.cors`, realm.cors),
      bruteForce: bruteForce(`${at}.bruteForce`, realm.bruteForce),
      adminRoles: adminRoles(`${at}.adminRoles`, realm.adminRoles),
      smtp: resolveSmtp(`${at}.smtp`, realm.smtp, process.env, fail),
      clients: resolveClients(`${at}.clients`, realm.clients, fail),
      recovery: resolveRecovery(`${at}.recovery`, realm.recovery, fail),
      templates: resolveTemplateFolder(`${at}.templates`, realm.templates, fail),
      defaultLocale: locale(`${at}.defaultLocale`, realm.defaultLocale),
      notifyPasswordChange: boolean(`${at}.notifyPasswordChange`, realm.notifyPasswordChange, true),
      credentialStore: credentialStore(`${at}.credentialStore`, realm.credentialStore, realm.issuer),
    }));
  }

  if ((options.connection === undefined) === (options.mongodbUri === undefined)) {
    fail('options', 'give exactly one of "connection" (a mongoose Connection you own) or "mongodbUri"');
  }
  const jwks = options.jwks ?? {};
  unknown('options.jwks', jwks, JWKS_OPTION_NAMES);
  const hashQueue = options.hashQueue ?? {};
  unknown('options.hashQueue', hashQueue, HASH_QUEUE_OPTION_NAMES);
  const concurrency = integer('options.hashQueue.concurrency', hashQueue.concurrency, defaultHashConcurrency(), 1, 1024);

  return Object.freeze({
    realms,
    database: options.connection ? { connection: options.connection } : { uri: options.mongodbUri ?? '' },
    bcryptCost: integer('options.bcryptCost', options.bcryptCost, DEFAULTS.bcryptCost, BCRYPT_COST_RANGE.min, BCRYPT_COST_RANGE.max),
    clockToleranceSeconds: integer('options.clockToleranceSeconds', options.clockToleranceSeconds, DEFAULTS.clockToleranceSeconds, 0, 300),
    jwks: Object.freeze({
      timeoutMs: integer('options.jwks.timeoutMs', jwks.timeoutMs, DEFAULTS.jwksTimeoutMs, 1, 60_000),
      cooldownMs: integer('options.jwks.cooldownMs', jwks.cooldownMs, DEFAULTS.jwksCooldownMs, 0, 3_600_000),
      cacheMaxAgeMs: integer('options.jwks.cacheMaxAgeMs', jwks.cacheMaxAgeMs, DEFAULTS.jwksCacheMaxAgeMs, 0, 86_400_000),
    }),
    bodyLimitBytes: integer('options.bodyLimitBytes', options.bodyLimitBytes, DEFAULTS.bodyLimitBytes, 256, 1_048_576),
    publicUrl: publicUrl(options.publicUrl),
    logger: options.logger,
    hasher: options.hasher,
    hashQueue: Object.freeze({
      concurrency,
      maxWaiting: integer('options.hashQueue.maxWaiting', hashQueue.maxWaiting, DEFAULTS.hashWaitingPerSlot * concurrency, 0, 1_000_000),
    }),
    trustedProxies: options.trustedProxies === undefined ? [] : (nameList('options.trustedProxies', options.trustedProxies) ?? []),
    eventRetentionDays: integer('options.eventRetentionDays', options.eventRetentionDays, DEFAULTS.eventRetentionDays, 1, 3_650),
    databaseTimeoutMs: integer('options.databaseTimeoutMs', options.databaseTimeoutMs, DEFAULTS.databaseTimeoutMs, 100, 60_000),
  });
}
