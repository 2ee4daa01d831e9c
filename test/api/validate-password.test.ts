import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const PATH = '/realms/alpha/password-resources/validate-password';
let service: TestService;
let alice: { id: string; token: string };

beforeAll(async () => {
  service = await startTestService('validate');
  alice = await service.createUser('alice', 'correct horse battery staple');
});
afterAll(async () => service.close());

describe('validate-password', () => {
  it('answers valid: true for the right password', async () => {
    const res = await call(service.app, 'post', PATH, { token: alice.token, body: { password: 'correct horse battery staple' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: true });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers valid: false for a wrong password', async () => {
    const res = await call(service.app, 'post', PATH, { token: alice.token, body: { password: 'correct horse battery stapler' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false });
  });

  it('refuses a request without a token with the bare challenge', async () => {
    const res = await call(service.app, 'post', PATH, { body: { password: 'x' } });
    expectError(res, 401, 'invalid_token', 'bare');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="alpha"');
  });

  it('answers 404 realm_not_found for an unknown realm, before looking at the token', async () => {
    const res = await call(service.app, 'post', '/realms/gamma/password-resources/validate-password', { token: 'garbage', body: { password: 'x' } });
    expectError(res, 404, 'realm_not_found');
  });
});
