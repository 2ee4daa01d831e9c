import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const RESET = '/realms/alpha/password-resources/reset-password';
let service: TestService;

beforeAll(async () => {
  service = await startTestService('history', { passwordPolicy: 'length(8) and passwordHistory(3)' });
});
afterAll(async () => service.close());

describe('passwordHistory(3)', () => {
  it('refuses any of the last three passwords, the current one counted, and keeps hashes only', async () => {
    const { id } = await service.createUser('petra', 'petra password A');
    const change = async (from: string, to: string): Promise<{ status: number; policies: string[] }> => {
      const res = await call(service.app, 'post', RESET, { token: await service.issuer.signAfterChange(id), body: { currentPassword: from, newPassword: to } });
      return { status: res.status, policies: ((res.body as { violations?: { policy: string }[] } | undefined)?.violations ?? []).map((v) => v.policy) };
    };
    expect((await change('petra password A', 'petra password B')).status).toBe(204);
    expect((await change('petra password B', 'petra password C')).status).toBe(204);
    expect(await change('petra password C', 'petra password A')).toEqual({ status: 400, policies: ['passwordHistory'] });
    expect(await change('petra password C', 'petra password B')).toEqual({ status: 400, policies: ['passwordHistory'] });
    expect(await change('petra password C', 'petra password C')).toEqual({ status: 400, policies: ['notCurrentPassword'] });
    expect((await change('petra password C', 'petra password D')).status).toBe(204);
    // A has dropped out of the last three (D, C, B).
    expect((await change('petra password D', 'petra password A')).status).toBe(204);
    const user = await service.resources.accounts.findByUsername('alpha', 'petra');
    expect(user?.previousCredentials).toHaveLength(2);
    expect(JSON.stringify(user)).not.toContain('petra password');
  });

  it('applies to an administrator setting the password, the current one included', async () => {
    await service.createUser('quinn', 'quinn password A');
    const user = await service.resources.accounts.findByUsername('alpha', 'quinn');
    if (!user) throw new Error('quinn missing');
    await expect(service.resources.accounts.setPassword(user, 'quinn password A', { temporary: false })).rejects.toMatchObject({
      code: 'invalid_password',
      violations: [{ policy: 'passwordHistory', parameter: 3, message: 'The password must not be one of the last 3 passwords.' }],
    });
  });

  it('shows in the policy for account pages', async () => {
    const { token } = await service.createUser('rosa', 'rosa password A');
    const res = await call(service.app, 'get', '/realms/alpha/password-resources/password-policy', { token });
    expect((res.body as { rules: unknown[] }).rules).toContainEqual({ policy: 'passwordHistory', parameter: 3, message: 'The password must not be one of the last 3 passwords.' });
  });

  it('is an ordinary invalid_password error with every violation', async () => {
    const { token } = await service.createUser('sara', 'sara password A');
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'sara password A', newPassword: 'short' } });
    expectError(res, 400, 'invalid_password');
  });
});
