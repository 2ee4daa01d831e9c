import express from 'express';
import request from 'supertest';
import { accountPathMethods } from '../../src/assembly/http';
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

/** The security headers helmet and the router put on answers; a preflight must carry the same. */
const SECURITY_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
];
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

function securityHeadersOf(res: request.Response): Record<string, unknown> {
  return Object.fromEntries(SECURITY_HEADERS.map((name) => [name, res.headers[name]]));
}

describe('preflights and security headers', () => {
  it('answers a preflight with no-store and the same security headers as a JSON answer', async () => {
    const res = await preflight(VALIDATE, APP);
    expect(res.status).toBe(204);
    expect(res.headers['cache-control']).toBe('no-store');
    const json = await call(service.app, 'post', VALIDATE, { body: { password: 'x' } });
    expect(securityHeadersOf(res)).toEqual(securityHeadersOf(json));
    expect(res.headers['content-security-policy']).toBe(API_CSP);
  });

  it.each([...accountPathMethods()].map(([path, methods]) => [path, methods.join(', ')]))('answers OPTIONS %s with 204 and Allow: %s, OPTIONS, from any origin', async (path, methods) => {
    const full = `/realms/alpha/password-resources${path}`;
    for (const origin of [APP, 'https://evil.example']) {
      const res = await preflight(full, origin);
      expect(res.status).toBe(204);
      expect(res.headers.allow).toBe(`${methods}, OPTIONS`);
      expect(res.headers['access-control-allow-origin']).toBe(origin === APP ? APP : undefined);
    }
  });

  it('answers OPTIONS of an unknown realm 404 realm_not_found', async () => {
    const res = await preflight('/realms/nope/password-resources/validate-password', APP);
    expectError(res, 404, 'realm_not_found');
  });

  it('leaves OPTIONS of the admin API to the host: the standalone server answers 404', async () => {
    const res = await request(service.app).options('/admin/realms/alpha/users');
    expectError(res, 404, 'not_found');
  });

  it('gives JSON answers and probes the API CSP, and the hosted page its own strict one', async () => {
    const json = await call(service.app, 'post', VALIDATE, { body: { password: 'x' } });
    expect(json.headers['content-security-policy']).toBe(API_CSP);
    expect(json.headers['x-frame-options']).toBe('DENY');
    const health = await call(service.app, 'get', '/healthz');
    expect(health.headers['content-security-policy']).toBe(API_CSP);
    const page = await request(service.app).get('/realms/alpha/password-resources/reset');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
  });

  it('puts the API CSP and nosniff on a mounted router\'s answers and preflights, without helmet', async () => {
    const host = express();
    host.use('/gateway', service.resources.router);
    const pre = await request(host).options(`/gateway${VALIDATE}`).set('Origin', APP).set('Access-Control-Request-Method', 'POST');
    const json = await call(host, 'post', VALIDATE, { prefix: '/gateway', body: { password: 'x' } });
    for (const res of [pre, json]) {
      expect(res.headers['content-security-policy']).toBe(API_CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(pre.headers['cache-control']).toBe('no-store');
  });
});
