import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { TestIssuer } from '../helpers/issuer';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const RESET = '/realms/alpha/password-resources/reset-password';
let issuer: TestIssuer;
let service: TestService;
let id: string;
const seconds = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  issuer = await TestIssuer.start();
  service = await startTestService(
    'requirements',
    {
      realms: {
        alpha: {
          issuer: issuer.issuerOf('alpha'),
          allowedClients: ['account-console', 'mobile-app'],
          requiredScopes: ['password'],
          requiredRealmRoles: ['user'],
          requiredClientRoles: { 'password-resources': ['change-password'] },
          maxAuthAge: 300,
        },
      },
    },
    issuer,
  );
  ({ id } = await service.resources.accounts.createUser({ realm: 'alpha', username: 'wanda', password: 'wanda long password' }));
});
afterAll(async () => {
  await service.close();
  await issuer.stop();
});

const roles = { realm_access: { roles: ['user', 'offline_access'] }, resource_access: { 'password-resources': { roles: ['change-password'] } } };
const good = { azp: 'account-console', scope: 'openid profile password', ...roles };

describe('per-realm token requirements', () => {
  it('accepts a token from an allowed client with the required scope', async () => {
    const res = await call(service.app, 'post', VALIDATE, { token: await issuer.sign({ sub: id, ...good }), body: { password: 'wanda long password' } });
    expect(res.body).toEqual({ valid: true });
  });

  it.each([
    ['another client', { ...good, azp: 'evil-app' }, 'The token was issued to a client this realm does not allow here (azp).', undefined],
    ['no azp', { scope: good.scope }, 'The token was issued to a client this realm does not allow here (azp).', undefined],
    ['no scope', { ...good, scope: undefined }, 'The token lacks the required scope "password".', 'password'],
    ['no realm role', { ...good, realm_access: { roles: ['offline_access'] } }, 'The token lacks the required role "user".', undefined],
    ['a client role of another client', { ...good, resource_access: { account: { roles: ['change-password'] } } }, 'The token lacks the required role "password-resources/change-password".', undefined],
    ['a scope that only contains the name', { ...good, scope: 'openid passwords' }, 'The token lacks the required scope "password".', 'password'],
  ])('answers 403 insufficient_scope to a token with %s, running no password check', async (_case, claims, description, scope) => {
    const before = { ...service.counts };
    const res = await call(service.app, 'post', VALIDATE, { token: await issuer.sign({ sub: id, ...claims }), body: { password: 'wanda long password' } });
    expectError(res, 403, 'insufficient_scope', 'error');
    expect(res.body).toEqual({ error: 'insufficient_scope', error_description: description });
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="alpha", error="insufficient_scope", error_description="${description.replace(/"/g, "'")}"${scope ? `, scope="${scope}"` : ''}`,
    );
    expect(service.counts).toEqual(before);
  });

  it('answers a bad token 401 before looking at its client', async () => {
    const res = await call(service.app, 'post', VALIDATE, { token: await issuer.sign({ sub: id, azp: 'evil-app' }, { expiresIn: -120 }), body: { password: 'x' } });
    expectError(res, 401, 'invalid_token', 'error');
  });
});

describe('maxAuthAge on reset-password (RFC 9470 step-up)', () => {
  it.each([
    ['a sign-in older than maxAuthAge', { auth_time: seconds() - 301 }],
    ['no auth_time', {}],
  ])('answers %s with 401 insufficient_user_authentication and max_age, changing nothing', async (_case, claims) => {
    const before = { ...service.counts };
    const token = await issuer.sign({ sub: id, ...good, ...claims });
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'wanda long password', newPassword: 'wanda newer password' } });
    expectError(res, 401, 'insufficient_user_authentication', 'error');
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="alpha", error="insufficient_user_authentication", error_description="This step needs a sign-in within the last 300 seconds; sign in again.", max_age="300"',
    );
    expect(service.counts).toEqual(before);
  });

  it('does not ask validate-password for a recent sign-in', async () => {
    const token = await issuer.sign({ sub: id, ...good, auth_time: seconds() - 86_400 });
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: 'wanda long password' } })).body).toEqual({ valid: true });
  });

  it('changes the password with a recent sign-in', async () => {
    const token = await issuer.sign({ sub: id, ...good, auth_time: seconds() - 10 });
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'wanda long password', newPassword: 'wanda newer password' } });
    expect(res.status).toBe(204);
  });
});
