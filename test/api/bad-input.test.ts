import { call, expectError } from '../helpers/api';
import type { CallOptions } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const RESET = '/realms/alpha/password-resources/reset-password';
const PASSWORD = 'ingrid long password';
let service: TestService;
let token: string;

beforeAll(async () => {
  service = await startTestService('bad-input');
  ({ token } = await service.createUser('ingrid', PASSWORD));
});
afterAll(async () => service.close());

type Body = Pick<CallOptions, 'body' | 'contentType'>;
const json = (text: string): Body => ({ body: text, contentType: 'application/json' });

/** [case, body for validate-password, body for reset-password, status] */
const cases: [string, Body, Body, number][] = [
  ['malformed JSON', json('{"password": '), json('{"currentPassword": "a", '), 400],
  ['a JSON array', json('["x"]'), json('["x"]'), 400],
  ['a JSON string', json('"x"'), json('"x"'), 400],
  ['a JSON number', json('42'), json('42'), 400],
  ['JSON null', json('null'), json('null'), 400],
  ['an empty object', { body: {} }, { body: {} }, 400],
  ['a missing field', { body: { passwrd: PASSWORD } }, { body: { currentPassword: PASSWORD } }, 400],
  ['a number instead of a string', { body: { password: 12345678 } }, { body: { currentPassword: PASSWORD, newPassword: 12345678 } }, 400],
  ['null instead of a string', { body: { password: null } }, { body: { currentPassword: null, newPassword: 'x' } }, 400],
  ['an object instead of a string', { body: { password: { $ne: '' } } }, { body: { currentPassword: { $gt: '' }, newPassword: 'abc' } }, 400],
  ['an array instead of a string', { body: { password: [PASSWORD] } }, { body: { currentPassword: [PASSWORD], newPassword: 'abc' } }, 400],
  ['an empty string', { body: { password: '' } }, { body: { currentPassword: PASSWORD, newPassword: '' } }, 400],
  ['an unknown extra field', { body: { password: PASSWORD, admin: true } }, { body: { currentPassword: PASSWORD, newPassword: 'another long one', userId: 'x' } }, 400],
  ['a __proto__ key', json(`{"password": "${PASSWORD}", "__proto__": {"admin": true}}`), json(`{"currentPassword": "${PASSWORD}", "newPassword": "another long one", "__proto__": {"x": 1}}`), 400],
  ['a constructor key', json(`{"password": "${PASSWORD}", "constructor": {"prototype": {"admin": true}}}`), json(`{"currentPassword": "${PASSWORD}", "newPassword": "another long one", "constructor": {}}`), 400],
  ['a NUL byte', { body: { password: 'ingrid\u0000long password' } }, { body: { currentPassword: PASSWORD, newPassword: 'another\u0000long one' } }, 400],
  // A new password that long is a maxLength violation instead (password-cap.test.ts).
  ['a very long string', { body: { password: 'x'.repeat(5_000) } }, { body: { currentPassword: 'x'.repeat(5_000), newPassword: 'another long one' } }, 400],
  [
    'invalid UTF-8',
    { body: Buffer.concat([Buffer.from('{"password": "ingrid '), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), contentType: 'application/json' },
    { body: Buffer.concat([Buffer.from(`{"currentPassword": "${PASSWORD}", "newPassword": "bad `), Buffer.from([0xff, 0xfe]), Buffer.from(' utf8"}')]), contentType: 'application/json' },
    400,
  ],
  ['a body over the limit', { body: { password: 'x'.repeat(20_000) } }, { body: { currentPassword: PASSWORD, newPassword: 'x'.repeat(20_000) } }, 413],
  ['text/plain', { body: PASSWORD, contentType: 'text/plain' }, { body: PASSWORD, contentType: 'text/plain' }, 415],
  ['a form', { body: `password=${PASSWORD}`, contentType: 'application/x-www-form-urlencoded' }, { body: 'currentPassword=a&newPassword=b', contentType: 'application/x-www-form-urlencoded' }, 415],
  ['no body and no content type', {}, {}, 415],
  ['a JSON body in another charset', { body: '{"password": "x"}', contentType: 'application/json; charset=utf-16' }, { body: '{"x": 1}', contentType: 'application/json; charset=latin1' }, 415],
];

async function snapshot(): Promise<{ hash: string | undefined; changedAt: Date | undefined }> {
  const user = await service.resources.accounts.findByUsername('alpha', 'ingrid');
  return { hash: user?.credential?.hash, changedAt: user?.passwordChangedAt };
}

describe.each([
  ['validate-password', VALIDATE, 1],
  ['reset-password', RESET, 2],
] as const)('%s with bad input', (_name, path, column) => {
  it.each(cases)('answers %s with a clear 4xx, changes nothing and keeps serving', async (_case, ...rest) => {
    const body = rest[column - 1] as Body;
    const status = rest[2];
    const before = await snapshot();
    const res = await call(service.app, 'post', path, { token, ...body });
    // A malformed request to a bearer route carries its RFC 6750 challenge; 413 and 415 do not.
    expectError(res, status, 'invalid_request', status === 400 ? 'error' : undefined);
    expect(res.status).toBeLessThan(500);
    await expect(snapshot()).resolves.toEqual(before);
    const good = await call(service.app, 'post', VALIDATE, { token, body: { password: PASSWORD } });
    expect(good.body).toEqual({ valid: true });
  });
});

describe('the order of checks', () => {
  it('answers a bad body with a bad token 401, revealing nothing about the body', async () => {
    const res = await call(service.app, 'post', RESET, { token: 'not-a-token', ...json('{"broken": ') });
    expectError(res, 401, 'invalid_token', 'error');
  });

  it('answers a bad body without a token 401', async () => {
    const res = await call(service.app, 'post', VALIDATE, { body: 'x', contentType: 'text/plain' });
    expectError(res, 401, 'invalid_token', 'bare');
  });

  it('names the field and the problem in error_description', async () => {
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 5, extra: 1 } });
    expect((res.body as { error_description: string }).error_description).toBe(
      'Invalid request body: missing field "newPassword"; unknown field "extra"; "currentPassword" must be a string.',
    );
  });
});
