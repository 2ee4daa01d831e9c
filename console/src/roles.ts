/**
 * What the signed-in administrator may do, read from their access token the
 * way the admin API reads it (src/http/middleware.ts, `adminGrants`): for an
 * administrator of the admin realm, the client roles of `<realm>-realm`; for
 * the realm's own, the client roles of `realm-management`, or realm roles or
 * scopes of the same name. Only hides what would be refused: the API decides.
 */

/** The admin roles of the realm, as the router's `adminRoles` option names them. */
export interface AdminRoleNames {
  readonly view: string;
  readonly manage: string;
  readonly viewEvents: string;
  readonly manageRealm: string;
  readonly viewRealm: string;
}

/** The rights the console shows actions for. */
export interface Rights {
  /** Read users, their credentials and lockout. */
  readonly viewUsers: boolean;
  /** Create and change users, passwords, lockouts; send their mails. */
  readonly manageUsers: boolean;
  readonly viewEvents: boolean;
  /** Read the realm's settings (password policy, SMTP). */
  readonly viewRealm: boolean;
  /** Test the SMTP connection. */
  readonly manageRealm: boolean;
}

/** Every right: for a token the console cannot read (the API still decides). */
export const ALL_RIGHTS: Rights = { viewUsers: true, manageUsers: true, viewEvents: true, viewRealm: true, manageRealm: true };

/** Where the token's rights on the realm are. */
export interface RoleSource {
  readonly roleClient: string;
  /** Set when the token is an admin realm's: then only `roleClient`'s roles count. */
  readonly adminRealm?: string;
  readonly adminRoles: AdminRoleNames;
}

function rolesIn(access: unknown): string[] {
  const roles = typeof access === 'object' && access !== null ? (access as { roles?: unknown }).roles : undefined;
  return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
}

/** The rights the claims of an access token hold, as the admin API reads them. */
export function rightsOf(claims: Record<string, unknown>, source: RoleSource): Rights {
  const access = claims.resource_access as Record<string, unknown> | undefined;
  const held = new Set(rolesIn(access?.[source.roleClient]));
  if (source.adminRealm === undefined) {
    for (const role of rolesIn(claims.realm_access)) held.add(role);
    if (typeof claims.scope === 'string') for (const scope of claims.scope.split(' ')) held.add(scope);
  }
  const { view, manage, viewEvents, manageRealm, viewRealm } = source.adminRoles;
  // As in Keycloak: manage-users includes view-users, manage-realm includes view-realm.
  return {
    viewUsers: held.has(view) || held.has(manage),
    manageUsers: held.has(manage),
    viewEvents: held.has(viewEvents),
    viewRealm: held.has(viewRealm) || held.has(manageRealm),
    manageRealm: held.has(manageRealm),
  };
}

/** The claims of a JWT, unverified (the API verifies it); `undefined` when the token is not a readable JWT. */
export function claimsOf(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '=')), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The rights of an access token; all of them when it cannot be read (an opaque token). */
export function rightsOfToken(token: string, source: RoleSource): Rights {
  const claims = claimsOf(token);
  return claims === undefined ? ALL_RIGHTS : rightsOf(claims, source);
}
