import { gzipSync } from 'node:zlib';
import { call, expectError } from '../helpers/api';
import type { CallOptions } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const BASE = '/realms/alpha/password-resources';
const PASSWORD = 'quentin long password';
let service: TestService;
let user: { id: string; token: string };
let admin: string;

beforeAll(async () => {
  service = await startTestService('parser-errors');
  user = await service.createUser('quentin', PASSWORD);
  admin = await service.issuer.sign({ sub: 'admin-1', azp: 'admin-cli', resource_access: { 'realm-management': { roles: ['manage-users', 'manage-realm'] } } });
});
afterAll(async () => service.close());

type Body = Required<Pick<CallOptions, 'body' | 'contentType'>> & Pick<CallOptions, 'headers'>;
const JSON_TYPE = 'application/json';
const valid = Buffer.from(JSON.stringify({ password: PASSWORD }));

/** [case, body, status]: bodies every JSON route must refuse with the contract's 4xx before reading any field. */
const jsonCases: [string, Body, number][] = [
  ['malformed JSON quoting the password', { body: `{"password": ${PASSWORD}}`, contentType: JSON_TYPE }, 400],
  ['invalid UTF-8', { body: Buffer.concat([valid.subarray(0, 12), Buffer.from([0xc3, 0x28]), valid.subarray(12)]), contentType: JSON_TYPE }, 400],
  ['a corrupt gzip body', { body: Buffer.from('not gzip at all, but says it is'), contentType: JSON_TYPE, headers: { 'Content-Encoding': 'gzip' } }, 400],
  ['a truncated gzip body', { body: gzipSync(valid).subarray(0, 12), contentType: JSON_TYPE, headers: { 'Content-Encoding': 'gzip' } }, 400],
  ['an unknown Content-Encoding', { body: valid, contentType: JSON_TYPE, headers: { 'Content-Encoding': 'x-squeeze' } }, 415],
  ['a charset other than UTF-8', { body: valid, contentType: 'application/json; charset=iso-8859-1' }, 415],
  ['a charset nobody knows', { body: valid, contentType: 'application/json; charset=x-none' }, 415],
  ['a body over the limit', { body: JSON.stringify({ password: 'x'.repeat(20_000) }), contentType: JSON_TYPE }, 413],
  ['a gzip body that inflates over the limit', { body: gzipSync(JSON.stringify({ password: 'x'.repeat(200_000) })), contentType: JSON_TYPE, headers: { 'Content-Encoding': 'gzip' } }, 413],
];

/** Every route that reads a JSON body, with the token it needs. */
const jsonRoutes: [string, 'post' | 'put', string, () => string | undefined][] = [
  ['validate-password', 'post', `${BASE}/validate-password`, () => user.token],
  ['reset-password', 'post', `${BASE}/reset-password`, () => user.token],
  ['forgot-password', 'post', `${BASE}/forgot-password`, () => undefined],
  ['reset-password-with-code', 'post', `${BASE}/reset-password-with-code`, () => undefined],
  ['admin: create a user', 'post', '/admin/realms/alpha/users', () => admin],
  ['admin: update a user', 'put', '/admin/realms/alpha/users/quentin-id', () => admin],
  ['admin: reset a password', 'put', '/admin/realms/alpha/users/quentin-id/reset-password', () => admin],
  ['admin: execute actions email', 'put', '/admin/realms/alpha/users/quentin-id/execute-actions-email', () => admin],
  ['admin: password change ticket', 'post', '/admin/realms/alpha/users/quentin-id/password-change-ticket', () => admin],
  ['admin: test SMTP', 'post', '/admin/realms/alpha/testSMTPConnection', () => admin],
];

describe.each(jsonRoutes)('%s refuses what it cannot read with a 4xx', (_route, method, path, token) => {
  it.each(jsonCases)('%s: %i invalid_request', async (_case, body, status) => {
    const res = await call(service.app, method, path, { token: token(), ...body });
    // A 400 of a bearer-protected route carries its RFC 6750 challenge.
    expectError(res, status, 'invalid_request', token() !== undefined && status === 400 ? 'error' : undefined);
    expect(res.text).not.toContain(PASSWORD);
  });
});

/** [case, body, headers, status]: forms the hosted reset page must answer with a page and a 4xx. */
const formCases: [string, string | Buffer, Record<string, string>, number][] = [
  ['more fields than a reset form has', Array.from({ length: 50 }, (_, i) => `f${i}=${encodeURIComponent(PASSWORD)}`).join('&'), {}, 413],
  ['a form over the limit', `password=${'x'.repeat(20_000)}`, {}, 413],
  ['a charset other than UTF-8', `password=${encodeURIComponent(PASSWORD)}`, { 'Content-Type': 'application/x-www-form-urlencoded; charset=x-none' }, 415],
  ['a corrupt gzip body', 'not gzip', { 'Content-Encoding': 'gzip' }, 400],
  ['an unknown Content-Encoding', `password=${encodeURIComponent(PASSWORD)}`, { 'Content-Encoding': 'x-squeeze' }, 415],
];

describe('the hosted reset form refuses what it cannot read with a page and a 4xx', () => {
  it.each(formCases)('%s: %i', async (_case, body, headers, status) => {
    const { 'Content-Type': contentType, ...others } = headers;
    const res = await call(service.app, 'post', `${BASE}/reset`, { body, contentType: contentType ?? 'application/x-www-form-urlencoded', headers: others });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; /);
    expect(res.text).toContain('The form could not be read');
    expect(res.text).not.toContain(PASSWORD);
  });
});
