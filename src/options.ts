/**
 * The options of `createPasswordResources`, composed from the parts in
 * `config/` (each owns its types, defaults and checks), and their resolution
 * into one frozen object in which nothing is optional.
 */
import type { Logger } from 'pino';
import type { DatabaseOptions, ResolvedDatabase } from './config/database-options';
import { resolveDatabase } from './config/database-options';
import { DEFAULTS } from './config/defaults';
import type { HttpOptions, ResolvedHttp } from './config/http-options';
import { resolveHttp } from './config/http-options';
import { fail, refuseUnknown } from './config/option-checks';
import type { HashDefaults } from './config/hash-options';
import type { PasswordOptions, ResolvedHashing } from './config/password-options';
import { resolveHashing, resolvePolicy } from './config/password-options';
import type { RealmOptions, ResolvedRealm } from './config/realm-options';
import { resolveRealm } from './config/realm-options';
import type { JwksOptions, TokenOptions } from './config/token-options';
import { resolveClockTolerance, resolveJwks } from './config/token-options';

export type { KeycloakCredentialStoreOptions } from './config/credential-store-options';
export { OptionsError } from './config/option-checks';
export type { RealmOptions } from './config/realm-options';

/** Options of `createPasswordResources`. */
export interface PasswordResourcesOptions extends DatabaseOptions, PasswordOptions, TokenOptions, HttpOptions {
  /** The realms served, by name. At least one. */
  readonly realms: Readonly<Record<string, RealmOptions>>;
  /** Where errors and events are logged. Default: a pino logger at `info` on stdout. */
  readonly logger?: Logger;
}

/** Options checked and completed. */
export interface ResolvedOptions extends ResolvedDatabase, ResolvedHashing, ResolvedHttp {
  readonly realms: ReadonlyMap<string, ResolvedRealm>;
  readonly clockToleranceSeconds: number;
  readonly jwks: JwksOptions;
  readonly logger: Logger | undefined;
}

const OPTION_NAMES = [
  'realms', 'connection', 'mongodbUri', 'hashAlgorithm', 'argon2', 'bcryptCost', 'passwordPolicy', 'clockToleranceSeconds', 'jwks', 'bodyLimitBytes', 'logger', 'hasher',
  'trustedProxies', 'eventRetentionDays', 'databaseTimeoutMs', 'publicUrl', 'hashQueue',
];

function resolveRealms(options: PasswordResourcesOptions, hashDefaults: HashDefaults): ReadonlyMap<string, ResolvedRealm> {
  const names = Object.keys(options.realms);
  if (names.length === 0) fail('options.realms', 'must name at least one realm');
  const defaultPolicy = options.passwordPolicy ?? DEFAULTS.passwordPolicy;
  resolvePolicy('options.passwordPolicy', defaultPolicy);
  const realms = new Map<string, ResolvedRealm>();
  for (const name of names) {
    const realm = options.realms[name];
    if (realm) realms.set(name, resolveRealm(name, realm, defaultPolicy, hashDefaults));
  }
  return realms;
}

/** Check options up front and return them complete and frozen. */
export function resolveOptions(options: PasswordResourcesOptions): ResolvedOptions {
  refuseUnknown('options', options, OPTION_NAMES);
  const hashing = resolveHashing(options);
  const realms = resolveRealms(options, hashing.hashDefaults);
  const database = resolveDatabase(options);
  const jwks = resolveJwks(options.jwks);
  return Object.freeze({
    realms,
    ...database,
    ...hashing,
    clockToleranceSeconds: resolveClockTolerance(options.clockToleranceSeconds),
    jwks,
    ...resolveHttp(options),
    logger: options.logger,
  });
}
