/** Options of a realm's admin console: the OpenID Connect client it signs administrators in with. */
import type { AdminRealm } from './admin-options';
import { checkHttpUrl } from './checks';
import { fail, refuseUnknown } from './option-checks';

/** A realm's admin console (`/admin/console/<realm>/`). */
export interface ConsoleOptions {
  /** The public client (authorization code with PKCE) registered for the console at `issuer`. Required. */
  readonly clientId: string;
  /**
   * Where administrators sign in: the realm's own issuer, or its admin realm's
   * (Keycloak's `master`), the only two whose tokens the realm's admin API
   * takes. Default: the realm's issuer.
   */
  readonly issuer?: string;
  /** The scope asked for, space-separated; must hold `openid`. Default: `openid`. */
  readonly scope?: string;
}

/** A realm's console, complete. */
export interface ResolvedConsole {
  readonly clientId: string;
  readonly issuer: string;
  readonly scope: string;
  /** The admin realm's name when `issuer` is its issuer: the console's administrators are its, their rights in `roleClient`. */
  readonly adminRealm: string | undefined;
  /** The client of the token's roles on the realm: `realm-management` for its own administrators, `<realm>-realm` for the admin realm's. */
  readonly roleClient: string;
}

/** Default scope: an ID token for sign-out (`id_token_hint`), nothing more. */
const DEFAULT_SCOPE = 'openid';

/**
 * Check a realm's `console` option (`at` names it); `undefined` when the realm
 * has no console. `realm` is what the admin API trusts: the realm's issuer,
 * its admin realm and the client of its own admin roles.
 */
export function resolveConsole(
  at: string,
  given: ConsoleOptions | undefined,
  realm: { issuer: string; adminRealm: AdminRealm | undefined; managementClient: string },
): ResolvedConsole | undefined {
  if (given === undefined) return undefined;
  // Options come from JavaScript callers and files too: the types are not checked for them.
  if (typeof given !== 'object' || (given as unknown) === null || Array.isArray(given)) fail(at, `must be an object { clientId, issuer?, scope? }, got ${JSON.stringify(given)}`);
  refuseUnknown(at, given, ['clientId', 'issuer', 'scope']);
  if (typeof given.clientId !== 'string' || !/^\S+$/.test(given.clientId)) {
    fail(`${at}.clientId`, `must be the console's client id at the identity provider (e.g. password-resources-console), got ${JSON.stringify(given.clientId)}`);
  }
  const issuer = given.issuer ?? realm.issuer;
  const problem = typeof issuer === 'string' ? checkHttpUrl(issuer) : `must be an issuer URL, got ${JSON.stringify(issuer)}`;
  if (problem) fail(`${at}.issuer`, problem);
  const admin = realm.adminRealm;
  const fromAdminRealm = admin !== undefined && issuer === admin.issuer;
  if (issuer !== realm.issuer && !fromAdminRealm) {
    const accepted = [realm.issuer, ...(admin ? [admin.issuer] : [])].map((one) => `"${one}"`).join(' or ');
    fail(`${at}.issuer`, `must be an issuer whose tokens the realm's admin API takes, ${accepted}, got "${issuer}"`);
  }
  const scope = given.scope ?? DEFAULT_SCOPE;
  if (typeof scope !== 'string' || !scope.split(' ').includes('openid') || !/^\S+( \S+)*$/.test(scope)) {
    fail(`${at}.scope`, `must be space-separated scopes including "openid", got ${JSON.stringify(scope)}`);
  }
  return Object.freeze({
    clientId: given.clientId,
    issuer,
    scope,
    adminRealm: fromAdminRealm ? admin.name : undefined,
    roleClient: fromAdminRealm ? admin.roleClient : realm.managementClient,
  });
}
