/** Options of the admin API and of login-check: the roles they ask of a token. */
import { REALM_NAME } from './checks';
import { DEFAULTS } from './defaults';
import { fail, isNameList, refuseUnknown } from './option-checks';

/** The roles of the admin API. */
export interface AdminRoles {
  /** Reading users, their credentials' metadata and brute force state. */
  readonly view: string;
  /** Changing them; includes `view`. */
  readonly manage: string;
  /** Reading events and admin events. */
  readonly viewEvents: string;
  /** Realm settings: testing the SMTP connection; includes `viewRealm`. */
  readonly manageRealm: string;
  /** Reading the realm's settings (`GET /admin/realms/{realm}`). */
  readonly viewRealm: string;
}

/** A realm's admin API settings. */
export interface RealmAdminOptions {
  /**
   * The roles the admin API asks of a token, found as client roles of
   * `realm-management` (Keycloak's layout), realm roles or scopes of that
   * name. Default: Keycloak's `view-users`, `manage-users` (which includes
   * viewing), `view-events`, `manage-realm` and `view-realm`.
   */
  readonly adminRoles?: Partial<AdminRoles>;
  /**
   * The role a login server's token must hold to call `login-check`: a realm
   * role, or a client role of any client (Keycloak's layout), of a
   * client-credentials token (a service account's, never a user's).
   * Default: `login-check`.
   */
  readonly loginCheckRole?: string;
  /**
   * The realm whose administrators may use this realm's admin API too, as
   * Keycloak's `master` does: its tokens are verified against its issuer
   * (`<server>/realms/<adminRealm>`) and key set, and their rights on this
   * realm read from `resource_access["<realm>-realm"]`. `false` turns it off.
   * Default: `master` when the issuer has Keycloak's shape
   * (`<server>/realms/<name>`), else off.
   */
  readonly adminRealm?: string | false;
}

/**
 * Keycloak 26's `AdminRoles.ALL_REALM_ROLES`: any of them lets an admin read a
 * realm's name (`GET /admin/realms/{realm}` without `view-realm`).
 */
export const KEYCLOAK_REALM_ADMIN_ROLES: readonly string[] = Object.freeze([
  'create-client', 'view-realm', 'view-users', 'view-clients', 'view-events', 'view-identity-providers', 'view-authorization', 'view-organizations',
  'manage-realm', 'manage-users', 'manage-clients', 'manage-events', 'manage-identity-providers', 'manage-authorization', 'manage-organizations',
  'query-users', 'query-clients', 'query-realms', 'query-groups', 'query-organizations',
]);

/** Keycloak's own administration realm. */
export const KEYCLOAK_ADMIN_REALM = 'master';

/** Keycloak's client of a realm's admin roles, in the realm itself. */
export const REALM_MANAGEMENT_CLIENT = 'realm-management';

/** The administrators' realm of a realm, and how its tokens are trusted. */
export interface AdminRealm {
  /** Its name, e.g. `master`. */
  readonly name: string;
  readonly issuer: string;
  readonly jwksUri: string;
  /** The client in the admin realm whose roles are rights on this realm: Keycloak's `<realm>-realm`. */
  readonly roleClient: string;
}

/** Where a realm's admin API finds its administrators and their roles. */
export interface ResolvedAdministrators {
  readonly adminRealm: AdminRealm | undefined;
  /** The client of the realm's own admin roles: `realm-management`, or `<name>-realm` in the admin realm itself (Keycloak's layout). */
  readonly managementClient: string;
}

/** Keycloak's issuer shape: the server, then `/realms/<name>`. */
const KEYCLOAK_ISSUER = /^(https?:\/\/.+)\/realms\/([^/]+)$/;

/** The server and realm name of an issuer of Keycloak's shape, else undefined. */
export function keycloakRealmOf(issuer: string): { server: string; name: string } | undefined {
  const match = KEYCLOAK_ISSUER.exec(issuer.replace(/\/+$/, ''));
  if (!match?.[1] || !match[2]) return undefined;
  return { server: match[1], name: decodeURIComponent(match[2]) };
}

/**
 * Where the admin realm's keys are: beside the realm's own when those are at
 * Keycloak's path (an internal address stays internal), else below its issuer.
 */
function adminJwksUri(jwksUri: string, realmName: string, adminIssuer: string, adminName: string): string {
  const ownPath = `/realms/${encodeURIComponent(realmName)}/protocol/openid-connect/certs`;
  if (jwksUri.endsWith(ownPath)) return `${jwksUri.slice(0, -ownPath.length)}/realms/${encodeURIComponent(adminName)}/protocol/openid-connect/certs`;
  return `${adminIssuer}/protocol/openid-connect/certs`;
}

/**
 * The admin realm of a realm whose tokens come from `issuer` (keys at
 * `jwksUri`), from its `adminRealm` option; `at` is the option's path.
 */
export function resolveAdministrators(at: string, given: string | false | undefined, issuer: string, jwksUri: string): ResolvedAdministrators {
  const keycloak = keycloakRealmOf(issuer);
  if (given !== undefined && given !== false && (typeof given !== 'string' || !REALM_NAME.test(given))) {
    fail(at, `must be a realm name or false, got ${JSON.stringify(given)}`);
  }
  const name = given ?? (keycloak ? KEYCLOAK_ADMIN_REALM : false);
  if (name === false) return { adminRealm: undefined, managementClient: REALM_MANAGEMENT_CLIENT };
  if (!keycloak) {
    fail(at, `needs an issuer of Keycloak's shape <server>/realms/<name> to find realm "${name}" beside it, got "${issuer}"; set it to false to turn it off`);
  }
  // Keycloak's admin realm keeps its own admin roles in `<name>-realm` too (it has no realm-management).
  if (name === keycloak.name) return { adminRealm: undefined, managementClient: `${name}-realm` };
  const adminIssuer = `${keycloak.server}/realms/${encodeURIComponent(name)}`;
  return {
    adminRealm: Object.freeze({ name, issuer: adminIssuer, jwksUri: adminJwksUri(jwksUri, keycloak.name, adminIssuer, name), roleClient: `${keycloak.name}-realm` }),
    managementClient: REALM_MANAGEMENT_CLIENT,
  };
}

export const DEFAULT_ADMIN_ROLES: AdminRoles = Object.freeze({ view: 'view-users', manage: 'manage-users', viewEvents: 'view-events', manageRealm: 'manage-realm', viewRealm: 'view-realm' });

export function resolveAdminRoles(name: string, given: Partial<AdminRoles> | undefined): AdminRoles {
  const roles = { ...DEFAULT_ADMIN_ROLES, ...given };
  refuseUnknown(name, roles, Object.keys(DEFAULT_ADMIN_ROLES));
  for (const [key, role] of Object.entries(roles)) {
    if (!isNameList([role])) fail(`${name}.${key}`, `must be a role name without spaces, got ${JSON.stringify(role)}`);
  }
  return Object.freeze(roles);
}

export function resolveLoginCheckRole(name: string, given: string | undefined): string {
  const role = given ?? DEFAULTS.loginCheckRole;
  if (!isNameList([role])) fail(name, `must be a role name without spaces, got ${JSON.stringify(role)}`);
  return role;
}
