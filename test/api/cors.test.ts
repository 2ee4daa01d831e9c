import request from 'supertest';
import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { TestIssuer } from '../helpers/issuer';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const APP = 'https://app.example';
let issuer: TestIssuer;
let service: TestService;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  service = await startTestService('cors', { realms: { alpha: { issuer: issuer.issuerOf('alpha'), cors: { origins: [APP] } }, beta: { issuer: issuer.issuerOf('beta') } } }, issuer);
});
afterAll(async () => {
  await service.close();
  await issuer.stop();
});

function preflight(path: string, origin: string): request.Test {
  return request(service.app)
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'authorization, content-type');
}

describe('CORS for SPA account pages', () => {
  it('answers a preflight from a listed origin, allowing Authorization', async () => {
    const res = await preflight(VALIDATE, APP);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-methods']).toBe('GET,POST');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers.vary).toContain('Origin');
  });

  it('gives a listed origin readable responses, errors included, with Retry-After exposed', async () => {
    const { token } = await service.createUser('xena', 'xena long password');
    const ok = await call(service.app, 'post', VALIDATE, { token, body: { password: 'xena long password' }, headers: { Origin: APP } });
    expect(ok.headers['access-control-allow-origin']).toBe(APP);
    expect(String(ok.headers['access-control-expose-headers'])).toBe('Retry-After,WWW-Authenticate,X-Request-Id');
    const denied = await call(service.app, 'post', VALIDATE, { body: { password: 'x' }, headers: { Origin: APP } });
    expectError(denied, 401, 'invalid_token', 'bare');
    expect(denied.headers['access-control-allow-origin']).toBe(APP);
  });

  it.each([
    ['another origin', 'https://evil.example', VALIDATE],
    ['a look-alike origin', 'https://app.example.evil.example', VALIDATE],
    ['a listed origin at another realm', APP, '/realms/beta/password-resources/validate-password'],
  ])('gives %s no CORS headers at all', async (_case, origin, path) => {
    const res = await preflight(path, origin);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
    const post = await call(service.app, 'post', path, { body: { password: 'x' }, headers: { Origin: origin } });
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
  });
});
