import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const RESET = '/realms/alpha/password-resources/reset-password';
const VALIDATE = '/realms/alpha/password-resources/validate-password';
let service: TestService;

beforeAll(async () => {
  service = await startTestService('revocation');
});
afterAll(async () => service.close());

const seconds = (): number => Math.floor(Date.now() / 1000);

async function change(token: string, from: string, to: string, app = service.app): Promise<void> {
  const res = await call(app, 'post', RESET, { token, body: { currentPassword: from, newPassword: to } });
  expect(res.status).toBe(204);
}

describe('tokens after a password change', () => {
  it('refuses the token that made the change, and every older one, without checking a password', async () => {
    const { id, token } = await service.createUser('quentin', 'quentin old password');
    const older = await service.issuer.sign({ sub: id, iat: seconds() - 120 });
    await change(token, 'quentin old password', 'quentin new password');
    const before = { ...service.counts };
    for (const stale of [token, older]) {
      const res = await call(service.app, 'post', VALIDATE, { token: stale, body: { password: 'quentin new password' } });
      expectError(res, 401, 'invalid_token', 'error');
      expect(res.headers['www-authenticate']).toContain('error_description="The token was issued before the password was last changed."');
    }
    expect(service.counts).toEqual(before);
  });

  it("refuses a token of the change's own second and accepts one of the next second", async () => {
    const { id, token } = await service.createUser('ruth', 'ruth old password');
    await change(token, 'ruth old password', 'ruth new password');
    const user = await service.resources.accounts.findByUsername('alpha', 'ruth');
    const changed = Math.floor((user?.passwordChangedAt?.getTime() ?? 0) / 1000);
    const same = await service.issuer.sign({ sub: id, iat: changed });
    const next = await service.issuer.sign({ sub: id, iat: changed + 1 });
    expectError(await call(service.app, 'post', VALIDATE, { token: same, body: { password: 'ruth new password' } }), 401, 'invalid_token', 'error');
    const ok = await call(service.app, 'post', VALIDATE, { token: next, body: { password: 'ruth new password' } });
    expect(ok.body).toEqual({ valid: true });
  });

  it('does not count creating a user as a change: a token issued before still works', async () => {
    const user = await service.resources.accounts.createUser({ realm: 'alpha', username: 'sven', password: 'sven has a password' });
    const before = await service.issuer.sign({ sub: user.id, iat: seconds() - 3600 });
    const res = await call(service.app, 'post', VALIDATE, { token: before, body: { password: 'sven has a password' } });
    expect(res.body).toEqual({ valid: true });
  });

  it('counts an administrator setting the password as a change', async () => {
    const { id, token } = await service.createUser('tom', 'tom old password');
    const user = await service.resources.accounts.findByUsername('alpha', 'tom');
    if (!user) throw new Error('tom missing');
    await service.resources.accounts.setPassword(user, 'tom set by an admin', { temporary: true });
    expectError(await call(service.app, 'post', VALIDATE, { token, body: { password: 'tom set by an admin' } }), 401, 'invalid_token', 'error');
    const fresh = await call(service.app, 'post', VALIDATE, { token: await service.issuer.signAfterChange(id), body: { password: 'tom set by an admin' } });
    expect(fresh.status).toBe(200);
  });

  it('refuses a token without iat once the password has changed, and accepts it before', async () => {
    const { id, token } = await service.createUser('uma', 'uma old password');
    const noIat = await service.issuer.sign({ sub: id, iat: undefined });
    expect((await call(service.app, 'post', VALIDATE, { token: noIat, body: { password: 'uma old password' } })).body).toEqual({ valid: true });
    await change(token, 'uma old password', 'uma new password');
    expectError(await call(service.app, 'post', VALIDATE, { token: noIat, body: { password: 'uma new password' } }), 401, 'invalid_token', 'error');
  });

  it('keeps old tokens working in a realm that turns revocation off', async () => {
    const relaxed = await startTestService('revocation-off', {
      realms: { alpha: { issuer: service.issuer.issuerOf('alpha'), revokeTokensOnPasswordChange: false } },
    }, service.issuer);
    try {
      const { token } = await relaxed.createUser('vera', 'vera old password');
      await change(token, 'vera old password', 'vera new password', relaxed.app);
      const res = await call(relaxed.app, 'post', VALIDATE, { token, body: { password: 'vera new password' } });
      expect(res.body).toEqual({ valid: true });
    } finally {
      await relaxed.close();
    }
  });
});
