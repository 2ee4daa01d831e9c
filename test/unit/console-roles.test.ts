import { ALL_RIGHTS, claimsOf, rightsOf, rightsOfToken } from '../../console/src/roles';
import type { RoleSource } from '../../console/src/roles';

/** The console reads an administrator's rights where the admin API does (src/http/middleware.ts, adminGrants). */
const roles = { view: 'view-users', manage: 'manage-users', viewEvents: 'view-events', manageRealm: 'manage-realm', viewRealm: 'view-realm' };
const own: RoleSource = { roleClient: 'realm-management', adminRoles: roles };
const master: RoleSource = { roleClient: 'demo-realm', adminRealm: 'master', adminRoles: roles };
const none = { viewUsers: false, manageUsers: false, viewEvents: false, viewRealm: false, manageRealm: false };
const client = (name: string, ...held: string[]): Record<string, unknown> => ({ resource_access: { [name]: { roles: held } } });

describe('rightsOf', () => {
  it.each([
    ['view-users alone: reads, no actions', own, client('realm-management', 'view-users'), { ...none, viewUsers: true }],
    ['manage-users includes view-users', own, client('realm-management', 'manage-users'), { ...none, viewUsers: true, manageUsers: true }],
    ['manage-realm includes view-realm', own, client('realm-management', 'manage-realm'), { ...none, viewRealm: true, manageRealm: true }],
    ['view-events', own, client('realm-management', 'view-events'), { ...none, viewEvents: true }],
    ['realm roles of the names count for the realm\'s own administrators', own, { realm_access: { roles: ['manage-users'] } }, { ...none, viewUsers: true, manageUsers: true }],
    ['scopes of the names count too', own, { scope: 'openid view-events' }, { ...none, viewEvents: true }],
    ['another client\'s roles do not count', own, client('account', 'manage-users'), none],
    ['a master administrator\'s rights are in <realm>-realm', master, client('demo-realm', 'view-users', 'view-events'), { ...none, viewUsers: true, viewEvents: true }],
    ['a master administrator\'s realm roles do not count (Keycloak: hasOneAdminRole)', master, { realm_access: { roles: ['manage-users', 'admin'] } }, none],
    ['a master administrator\'s realm-management roles do not count', master, client('realm-management', 'manage-users'), none],
    ['a malformed claim holds nothing', own, { resource_access: { 'realm-management': { roles: 'manage-users' } }, realm_access: null }, none],
  ])('%s', (_case, source, claims, expected) => {
    expect(rightsOf(claims, source)).toEqual(expected);
  });

  it('reads the realm\'s own role names (adminRoles)', () => {
    const named = { ...own, adminRoles: { ...roles, view: 'user-viewer', manage: 'user-admin' } };
    expect(rightsOf({ realm_access: { roles: ['user-viewer'] } }, named)).toEqual({ ...none, viewUsers: true });
    expect(rightsOf(client('realm-management', 'view-users'), named)).toEqual(none);
  });
});

describe('reading the token', () => {
  const jwt = (claims: object): string => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.signature`;

  it('reads the claims of a JWT, non-ASCII included', () => {
    expect(claimsOf(jwt({ sub: 'a', name: 'Zoë ✓' }))).toEqual({ sub: 'a', name: 'Zoë ✓' });
  });

  it.each([['opaque'], ['a.b.c'], [jwt([1, 2]).replace(/^[^.]+/, 'x')], ['']])('reads nothing from %j', (token) => {
    expect(claimsOf(token)).toBeUndefined();
  });

  it('gives every right for a token it cannot read: the API decides', () => {
    expect(rightsOfToken('opaque', own)).toEqual(ALL_RIGHTS);
    expect(rightsOfToken(jwt(client('realm-management', 'view-users')), own)).toEqual({ ...none, viewUsers: true });
  });
});
