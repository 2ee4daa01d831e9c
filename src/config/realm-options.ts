/**
 * The options of one realm, composed from the parts they configure (tokens,
 * passwords, HTTP, administration, mail, the credential store), and their
 * resolution into the `ResolvedRealm` every request is served with.
 */
import type { BruteForceSettings } from '../domain/lockout';
import type { PasswordPolicy } from '../domain/policy';
import type { AdminRoles, RealmAdminOptions, ResolvedAdministrators } from './admin-options';
import { resolveAdministrators, resolveAdminRoles, resolveLoginCheckRole } from './admin-options';
import { REALM_NAME } from './checks';
import type { ConsoleOptions, ResolvedConsole } from './console-options';
import { resolveConsole } from './console-options';
import type { RealmCredentialStoreOptions, ResolvedCredentialStore } from './credential-store-options';
import { resolveCredentialStore } from './credential-store-options';
import type { RealmEmailOptions, ResolvedRealmEmail } from './email-options';
import { resolveRealmEmail } from './email-options';
import type { RealmHttpOptions } from './http-options';
import { resolveCorsOrigins } from './http-options';
import { fail, refuseUnknown } from './option-checks';
import type { HashScheme } from '../domain/hashing';
import { resolveHashScheme } from './hash-options';
import type { HashDefaults } from './hash-options';
import type { RealmPasswordOptions } from './password-options';
import { resolveBruteForce, resolvePolicy } from './password-options';
import type { RealmTokenOptions, ResolvedTokenRules } from './token-options';
import { resolveTokenRules } from './token-options';

/** Settings of one realm. */
export interface RealmOptions extends RealmTokenOptions, RealmPasswordOptions, RealmHttpOptions, RealmAdminOptions, RealmEmailOptions, RealmCredentialStoreOptions {
  /** The admin console at `/admin/console/<realm>/` and the client it signs in with. Default: none. */
  readonly console?: ConsoleOptions;
}

/** A realm as the router uses it: nothing optional. */
export interface ResolvedRealm extends ResolvedTokenRules, ResolvedRealmEmail, ResolvedAdministrators {
  readonly name: string;
  readonly policy: PasswordPolicy;
  /** How the realm stores new passwords, from its policy's `hashAlgorithm` and `hashIterations`. */
  readonly hashScheme: HashScheme;
  readonly corsOrigins: readonly string[];
  readonly bruteForce: BruteForceSettings;
  readonly adminRoles: AdminRoles;
  readonly loginCheckRole: string;
  readonly credentialStore: ResolvedCredentialStore;
  /** The realm's admin console; undefined when it has none. */
  readonly console: ResolvedConsole | undefined;
}

const REALM_OPTION_NAMES = [
  'issuer', 'jwksUri', 'audience', 'acceptPlainJwtAccessTokens', 'passwordPolicy', 'argon2', 'revokeTokensOnPasswordChange', 'allowedClients', 'requiredScopes', 'requiredRealmRoles',
  'requiredClientRoles', 'maxAuthAge', 'cors', 'bruteForce', 'adminRoles', 'loginCheckRole', 'smtp', 'clients', 'recovery', 'templates', 'defaultLocale', 'notifyPasswordChange', 'credentialStore', 'adminRealm', 'console',
];

/**
 * Check one realm's options and complete them; `defaultPolicy` is the policy
 * of realms that set none, `hashDefaults` what their hash scheme falls back
 * on. Errors name `options.realms.<name>.<option>`.
 */
export function resolveRealm(name: string, realm: RealmOptions, defaultPolicy: string, hashDefaults: HashDefaults): ResolvedRealm {
  const at = `options.realms.${name}`;
  if (!REALM_NAME.test(name)) fail(at, `realm names are 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  refuseUnknown(at, realm, REALM_OPTION_NAMES);
  const tokens = resolveTokenRules(at, realm);
  const policy = resolvePolicy(`${at}.passwordPolicy`, realm.passwordPolicy ?? defaultPolicy);
  const administrators = resolveAdministrators(`${at}.adminRealm`, realm.adminRealm, tokens.issuer, tokens.jwksUri);
  return Object.freeze({
    name,
    ...tokens,
    policy,
    hashScheme: resolveHashScheme({ policy: `${at}.passwordPolicy`, argon2: `${at}.argon2` }, policy, realm.argon2, hashDefaults, fail),
    corsOrigins: resolveCorsOrigins(`${at}.cors`, realm.cors),
    bruteForce: resolveBruteForce(`${at}.bruteForce`, realm.bruteForce),
    adminRoles: resolveAdminRoles(`${at}.adminRoles`, realm.adminRoles),
    loginCheckRole: resolveLoginCheckRole(`${at}.loginCheckRole`, realm.loginCheckRole),
    ...administrators,
    ...resolveRealmEmail(at, realm, process.env),
    credentialStore: resolveCredentialStore(`${at}.credentialStore`, realm.credentialStore, realm.issuer),
    console: resolveConsole(`${at}.console`, realm.console, { issuer: tokens.issuer, ...administrators }),
  });
}
