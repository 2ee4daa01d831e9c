import { Writable } from 'node:stream';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/app';
import { call } from '../helpers/api';
import type { CallOptions } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const BASE = '/realms/alpha/password-resources';
/** The secrets this test sends on every path; none may reach a log line. */
const PASSWORD = 'Rosalind-secret-passphrase-7731';
const NEW_PASSWORD = 'Rosalind-new-secret-passphrase-9902';
const COOKIE_KEY = 'cookie-key-secret-4410';

const lines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(chunk.toString());
    done();
  },
});
/** Everything, debug and trace included: an operator may turn them on. */
const logger = pino({ level: 'trace' }, capture);

let service: TestService;
let app: Express;
let token = '';
let admin = '';

beforeAll(async () => {
  service = await startTestService('log-secrets', { logger });
  app = createApp(service.resources, logger);
  ({ token } = await service.createUser('rosalind', PASSWORD));
  admin = await service.issuer.sign({ sub: 'admin-1', azp: 'admin-cli', resource_access: { 'realm-management': { roles: ['manage-users'] } } });
});
afterAll(async () => service.close());

const json = (value: unknown): string => JSON.stringify(value);
const form = 'application/x-www-form-urlencoded';

/** [path, method, url, what to send]: the error paths (and a few successes), each carrying the secrets. */
const paths: [string, 'get' | 'post' | 'put', string, () => CallOptions][] = [
  ['a right password', 'post', `${BASE}/validate-password`, () => ({ token, body: { password: PASSWORD } })],
  ['a wrong password', 'post', `${BASE}/validate-password`, () => ({ token, body: { password: NEW_PASSWORD } })],
  ['malformed JSON quoting the password', 'post', `${BASE}/validate-password`, () => ({ token, body: `{"password": ${PASSWORD}}` })],
  ['JSON that is not an object', 'post', `${BASE}/validate-password`, () => ({ token, body: `"${PASSWORD}"` })],
  ['an unknown field', 'post', `${BASE}/validate-password`, () => ({ token, body: { password: PASSWORD, [PASSWORD]: PASSWORD } })],
  ['invalid UTF-8', 'post', `${BASE}/validate-password`, () => ({ token, body: Buffer.concat([Buffer.from(`{"password": "${PASSWORD}`), Buffer.from([0xff]), Buffer.from('"}')]) })],
  ['a body over the limit', 'post', `${BASE}/validate-password`, () => ({ token, body: { password: PASSWORD.repeat(1_000) } })],
  ['a charset other than UTF-8', 'post', `${BASE}/validate-password`, () => ({ token, body: json({ password: PASSWORD }), contentType: 'application/json; charset=latin1' })],
  ['a corrupt gzip body', 'post', `${BASE}/validate-password`, () => ({ token, body: json({ password: PASSWORD }), headers: { 'Content-Encoding': 'gzip' } })],
  ['a form instead of JSON', 'post', `${BASE}/validate-password`, () => ({ token, body: `password=${PASSWORD}`, contentType: form })],
  ['a token that does not verify', 'post', `${BASE}/validate-password`, () => ({ token: `${token}x`, body: { password: PASSWORD } })],
  ['a malformed Authorization header', 'post', `${BASE}/validate-password`, () => ({ authorization: `Bearer ${token} ${PASSWORD}`, body: { password: PASSWORD } })],
  ['a token in the query', 'post', `${BASE}/validate-password?access_token=${token}`, () => ({ body: { password: PASSWORD } })],
  ['a token in the body too', 'post', `${BASE}/validate-password`, () => ({ token, body: { password: PASSWORD, access_token: token } })],
  ['a wrong current password', 'post', `${BASE}/reset-password`, () => ({ token, body: { currentPassword: NEW_PASSWORD, newPassword: PASSWORD } })],
  ['a new password the policy refuses', 'post', `${BASE}/reset-password`, () => ({ token, body: { currentPassword: PASSWORD, newPassword: PASSWORD } })],
  ['a wrong recovery code', 'post', `${BASE}/reset-password-with-code`, () => ({ body: { username: 'rosalind', code: '12345678', newPassword: NEW_PASSWORD } })],
  ['malformed JSON at forgot-password', 'post', `${BASE}/forgot-password`, () => ({ body: `{"username": "${PASSWORD}`, headers: { Cookie: `password_resources_reset=${COOKIE_KEY}` } })],
  ['the reset form without a link', 'post', `${BASE}/reset`, () => ({ body: `password=${PASSWORD}&confirm=${PASSWORD}`, contentType: form, headers: { Cookie: `password_resources_reset=${COOKIE_KEY}` } })],
  ['the reset form with too many fields', 'post', `${BASE}/reset`, () => ({ body: Array.from({ length: 20 }, () => `password=${PASSWORD}`).join('&'), contentType: form, headers: { Cookie: `password_resources_reset=${COOKIE_KEY}` } })],
  ['the reset form in another charset', 'post', `${BASE}/reset`, () => ({ body: `password=${PASSWORD}`, contentType: `${form}; charset=x-none`, headers: { Cookie: `password_resources_reset=${COOKIE_KEY}` } })],
  ['the reset page with a key in the query', 'get', `${BASE}/reset?key=${COOKIE_KEY}`, () => ({})],
  ['an admin reset of an unknown user', 'put', '/admin/realms/alpha/users/nobody/reset-password', () => ({ token: admin, body: { type: 'password', value: PASSWORD, temporary: false } })],
  ['an admin create with malformed JSON', 'post', '/admin/realms/alpha/users', () => ({ token: admin, body: `{"username": "x", "credentials": [{"value": ${PASSWORD}` })],
  ['an admin request with a user token', 'put', '/admin/realms/alpha/users/nobody/reset-password', () => ({ token, body: { type: 'password', value: PASSWORD } })],
  ['an unknown route', 'post', `/nowhere?password=${PASSWORD}`, () => ({ token, body: { password: PASSWORD } })],
];

describe('no secret in any log line', () => {
  it.each(paths)('%s', async (_path, method, url, options) => {
    const before = lines.length;
    const res = await call(app, method, url, options());
    expect(res.status).toBeLessThan(500);
    const written = lines.slice(before);
    // The path was logged (the access line at least), so the scan below looks at something.
    expect(written.length).toBeGreaterThan(0);
    for (const line of written) {
      for (const secret of [PASSWORD, NEW_PASSWORD, token, token.split('.')[2] ?? token, COOKIE_KEY]) expect(line).not.toContain(secret);
    }
  });

  it('logs the errors themselves, without the secrets, at debug', () => {
    const parserLines = lines.filter((line) => line.includes('"parserType":"entity.parse.failed"'));
    expect(parserLines.length).toBeGreaterThan(0);
  });
});
