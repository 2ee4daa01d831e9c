/** Options of the admin API and of login-check: the roles they ask of a token. */
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
  /** Realm settings: testing the SMTP connection. */
  readonly manageRealm: string;
}

/** A realm's admin API settings. */
export interface RealmAdminOptions {
  /**
   * The roles the admin API asks of a token, found as client roles of
   * `realm-management` (Keycloak's layout), realm roles or scopes of that
   * name. Default: Keycloak's `view-users`, `manage-users` (which includes
   * viewing), `view-events` and `manage-realm`.
   */
  readonly adminRoles?: Partial<AdminRoles>;
  /**
   * The role a login server's token must hold to call `login-check`: a realm
   * role, or a client role of any client (Keycloak's layout), of a
   * client-credentials token (a service account's, never a user's).
   * Default: `login-check`.
   */
  readonly loginCheckRole?: string;
}

export const DEFAULT_ADMIN_ROLES: AdminRoles = Object.freeze({ view: 'view-users', manage: 'manage-users', viewEvents: 'view-events', manageRealm: 'manage-realm' });

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
