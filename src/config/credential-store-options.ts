/** Options of where a realm's passwords live: ours in MongoDB, or Keycloak's (sidecar mode). */
import { checkHttpUrl } from './checks';
import { DEFAULTS } from './defaults';
import { fail, integer, refuseUnknown } from './option-checks';

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

/** A realm's credential store setting. */
export interface RealmCredentialStoreOptions {
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

/** A realm's credential store, resolved. */
export type ResolvedCredentialStore =
  | { readonly type: 'mongodb' }
  | { readonly type: 'keycloak'; readonly serverUrl: string; readonly realm: string; readonly clientId: string; readonly clientSecret: string; readonly timeoutMs: number };

const KEYCLOAK_STORE_OPTION_NAMES = ['type', 'serverUrl', 'realm', 'clientId', 'clientSecret', 'timeoutMs'];

/** The Keycloak options, their shape checked; `given` is what the caller wrote. */
function keycloakOptions(name: string, given: unknown): KeycloakCredentialStoreOptions {
  if (given === 'keycloak') {
    fail(name, '"keycloak" needs the client it acts as: { type: "keycloak", clientId: "...", clientSecret: "..." } (serverUrl and realm default from the issuer)');
  }
  if (typeof given !== 'object' || given === null || (given as { type?: unknown }).type !== 'keycloak') {
    fail(name, `must be "mongodb" or { type: "keycloak", clientId, clientSecret, serverUrl?, realm?, timeoutMs? }, got ${JSON.stringify(given)}`);
  }
  refuseUnknown(name, given, KEYCLOAK_STORE_OPTION_NAMES);
  return given as KeycloakCredentialStoreOptions;
}

export function resolveCredentialStore(name: string, store: RealmCredentialStoreOptions['credentialStore'], issuer: string): ResolvedCredentialStore {
  if (store === undefined || store === 'mongodb') return Object.freeze({ type: 'mongodb' });
  const given = keycloakOptions(name, store);
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
