import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const USERS = '/admin/realms/alpha/users';
let service: TestService;

beforeAll(async () => {
  service = await startTestService('admin-users', { passwordPolicy: 'length(10) and digits(1) and notUsername and passwordHistory(2)' });
});
afterAll(async () => service.close());

/** An admin token of the realm, with client roles of realm-management as Keycloak puts them. */
async function adminToken(roles: string[], realm = 'alpha'): Promise<string> {
  return service.issuer.sign({ sub: 'admin-1', azp: 'admin-cli', resource_access: { 'realm-management': { roles } } }, { realm });
}

interface UserRepresentation {
  id: string;
  username: string;
  email?: string;
  enabled: boolean;
  requiredActions: string[];
  firstName?: string;
}

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await call(service.app, 'post', USERS, { token: await adminToken(['manage-users']), body });
  expect(res.status).toBe(201);
  const location = String(res.headers.location);
  expect(location).toMatch(/^\/admin\/realms\/alpha\/users\/[^/]+$/);
  return decodeURIComponent(location.split('/').pop() ?? '');
}

describe('who may call the admin API', () => {
  it('reads with view-users, writes with manage-users (which includes reading), as client roles of realm-management', async () => {
    const id = await create({ username: 'amber', enabled: true });
    const viewer = await adminToken(['view-users']);
    expect((await call(service.app, 'get', `${USERS}/${id}`, { token: viewer })).status).toBe(200);
    const refused = await call(service.app, 'put', `${USERS}/${id}`, { token: viewer, body: { enabled: false } });
    expectError(refused, 403, 'insufficient_scope', 'error');
    expect((refused.body as { error_description: string }).error_description).toContain('"manage-users"');
    expect((await call(service.app, 'get', `${USERS}/${id}`, { token: await adminToken(['manage-users']) })).status).toBe(200);
  });

  it('names the missing role in a 403, instead of a bare 403', async () => {
    const res = await call(service.app, 'get', USERS, { token: await adminToken(['manage-realm']) });
    expectError(res, 403, 'insufficient_scope', 'error');
    expect((res.body as { error_description: string }).error_description).toBe(
      'The token lacks the role "view-users" (a client role of realm-management, or a realm role or scope of that name) that this admin request needs.',
    );
  });

  it('accepts the roles as realm roles or scopes too', async () => {
    const asRealmRole = await service.issuer.sign({ sub: 'ops', realm_access: { roles: ['view-users'] } });
    const asScope = await service.issuer.sign({ sub: 'ops', scope: 'openid view-users' });
    expect((await call(service.app, 'get', USERS, { token: asRealmRole })).status).toBe(200);
    expect((await call(service.app, 'get', USERS, { token: asScope })).status).toBe(200);
  });

  it("never lets an admin of one realm reach another realm's users", async () => {
    const id = await create({ username: 'basil', enabled: true });
    const betaAdmin = await adminToken(['manage-users'], 'beta');
    // Beta's token at alpha's path fails the issuer check.
    expectError(await call(service.app, 'get', `${USERS}/${id}`, { token: betaAdmin }), 401, 'invalid_token', 'error');
    // At its own realm's path, alpha's user does not exist.
    const res = await call(service.app, 'get', `/admin/realms/beta/users/${id}`, { token: betaAdmin });
    expectError(res, 404, 'user_not_found');
    expect((res.body as { error_description: string }).error_description).toBe('User not found in realm "beta".');
    expectError(await call(service.app, 'put', `/admin/realms/beta/users/${id}/reset-password`, { token: betaAdmin, body: { value: 'basil pw 12345' } }), 404, 'user_not_found');
  });

  it('needs a token, checks it before the body, and knows only configured realms', async () => {
    expectError(await call(service.app, 'get', USERS), 401, 'invalid_token', 'bare');
    expectError(await call(service.app, 'post', USERS, { body: 'not json' }), 401, 'invalid_token', 'bare');
    expectError(await call(service.app, 'get', '/admin/realms/gamma/users', { token: await adminToken(['view-users']) }), 404, 'realm_not_found');
  });
});

describe('users', () => {
  it('creates a user in Keycloak\'s shape, disabled unless "enabled" is given, and refuses duplicates with 409', async () => {
    const id = await create({ username: 'Cyrus', email: 'Cyrus@Example.com', firstName: 'Cyrus', lastName: 'Smith', requiredActions: ['VERIFY_EMAIL'] });
    const res = await call(service.app, 'get', `${USERS}/${id}`, { token: await adminToken(['view-users']) });
    expect(res.body).toEqual({
      id,
      username: 'cyrus',
      email: 'cyrus@example.com',
      emailVerified: false,
      firstName: 'Cyrus',
      lastName: 'Smith',
      enabled: false,
      createdTimestamp: expect.any(Number) as number,
      requiredActions: ['VERIFY_EMAIL'],
    });
    const manage = await adminToken(['manage-users']);
    expectError(await call(service.app, 'post', USERS, { token: manage, body: { username: 'cyrus' } }), 409, 'conflict');
    expectError(await call(service.app, 'post', USERS, { token: manage, body: { username: 'other', email: 'cyrus@example.com' } }), 409, 'conflict');
  });

  it('creates a user with the IdP subject as id and a temporary password, checked against the policy with every violation', async () => {
    const manage = await adminToken(['manage-users']);
    const weak = await call(service.app, 'post', USERS, { token: manage, body: { username: 'dora', credentials: [{ type: 'password', value: 'dora' }] } });
    expectError(weak, 400, 'invalid_password');
    expect((weak.body as { violations: { policy: string }[] }).violations.map((v) => v.policy)).toEqual(['length', 'digits', 'notUsername']);
    const id = await create({ id: 'subject-of-dora', username: 'dora', enabled: true, credentials: [{ type: 'password', value: 'dora first 12345', temporary: true }] });
    expect(id).toBe('subject-of-dora');
    const token = await service.issuer.sign({ sub: id });
    const validated = await call(service.app, 'post', '/realms/alpha/password-resources/validate-password', { token, body: { password: 'dora first 12345' } });
    expect(validated.body).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
  });

  it("finds users as Keycloak's GET /users does: by field (infix or exact), by search (prefix, *infix*, \"exact\"), paged, sorted", async () => {
    for (const [username, email, lastName] of [
      ['finder-anna', 'anna@finder.test', 'Lindqvist'],
      ['finder-annabel', 'annabel@finder.test', 'Lind'],
      ['finder-ben', 'ben@finder.test', 'Bengtsson'],
    ] as const) {
      await create({ username, email, lastName, enabled: username !== 'finder-ben' });
    }
    const viewer = await adminToken(['view-users']);
    const names = async (query: string): Promise<string[]> => {
      const res = await call(service.app, 'get', `${USERS}?${query}`, { token: viewer });
      expect(res.status).toBe(200);
      return (res.body as UserRepresentation[]).map((user) => user.username);
    };
    expect(await names('username=finder-ann')).toEqual(['finder-anna', 'finder-annabel']);
    expect(await names('username=finder-anna&exact=true')).toEqual(['finder-anna']);
    expect(await names('username=FINDER-ANNA&exact=true')).toEqual(['finder-anna']);
    expect(await names('email=annabel%40finder.test')).toEqual(['finder-annabel']);
    expect(await names('lastName=lind')).toEqual(['finder-anna', 'finder-annabel']);
    expect(await names('search=finder-a')).toEqual(['finder-anna', 'finder-annabel']);
    expect(await names('search=inder-b')).toEqual([]);
    expect(await names('search=*inder-b*')).toEqual(['finder-ben']);
    expect(await names('search=%22finder-anna%22')).toEqual(['finder-anna']);
    expect(await names('search=bengts')).toEqual(['finder-ben']);
    expect(await names('search=finder&enabled=false')).toEqual(['finder-ben']);
    expect(await names('search=finder&first=1&max=1')).toEqual(['finder-annabel']);
    expect(await names('search=finder.*')).toEqual([]); // no regular expressions
    const count = await call(service.app, 'get', `${USERS}/count?search=finder`, { token: viewer });
    expect(count.body).toBe(3);
  });

  it('refuses an unknown query parameter or a bad value, naming it', async () => {
    const viewer = await adminToken(['view-users']);
    const unknown = await call(service.app, 'get', `${USERS}?userName=x`, { token: viewer });
    expectError(unknown, 400, 'invalid_request', 'error');
    expect((unknown.body as { error_description: string }).error_description).toMatch(/^Unknown query parameter "userName"/);
    expectError(await call(service.app, 'get', `${USERS}?max=-1`, { token: viewer }), 400, 'invalid_request', 'error');
    expectError(await call(service.app, 'get', `${USERS}?exact=yes`, { token: viewer }), 400, 'invalid_request', 'error');
    expect((await call(service.app, 'get', `${USERS}?briefRepresentation=true&max=1`, { token: viewer })).status).toBe(200);
  });

  it('changes what PUT names, accepts back what GET returned, and deletes', async () => {
    const id = await create({ username: 'edith', email: 'edith@example.com', firstName: 'Edith', enabled: true });
    const manage = await adminToken(['manage-users']);
    const got = (await call(service.app, 'get', `${USERS}/${id}`, { token: manage })).body as UserRepresentation;
    expect((await call(service.app, 'put', `${USERS}/${id}`, { token: manage, body: { ...got, enabled: false, firstName: null } })).status).toBe(204);
    const after = (await call(service.app, 'get', `${USERS}/${id}`, { token: manage })).body as UserRepresentation;
    expect(after).toMatchObject({ enabled: false, email: 'edith@example.com' });
    expect(after.firstName).toBeUndefined();
    expectError(await call(service.app, 'put', `${USERS}/${id}`, { token: manage, body: { id: 'someone-else' } }), 400, 'invalid_request', 'error');
    expectError(await call(service.app, 'put', `${USERS}/${id}`, { token: manage, body: { password: 'x' } }), 400, 'invalid_request', 'error');
    expectError(await call(service.app, 'put', `${USERS}/${id}`, { token: manage, body: { email: 'cyrus@example.com' } }), 409, 'conflict');
    expect((await call(service.app, 'delete', `${USERS}/${id}`, { token: manage })).status).toBe(204);
    expectError(await call(service.app, 'get', `${USERS}/${id}`, { token: manage }), 404, 'user_not_found');
    expectError(await call(service.app, 'delete', `${USERS}/${id}`, { token: manage }), 404, 'user_not_found');
  });
});
