import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const POLICY = '/realms/alpha/password-resources/password-policy';
const RESET = '/realms/alpha/password-resources/reset-password';
let service: TestService;

beforeAll(async () => {
  service = await startTestService('policy', { passwordPolicy: 'length(12) and digits(2) and upperCase and notUsername and regexPattern([^ ]+)' });
});
afterAll(async () => service.close());

describe('password-policy', () => {
  it("returns the realm's rules, machine-readable, to a user of the realm", async () => {
    const { token } = await service.createUser('kim', 'KIMBERLY11aa');
    const res = await call(service.app, 'get', POLICY, { token });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      policy: 'length(12) and digits(2) and upperCase(1) and notUsername and regexPattern([^ ]+)',
      rules: [
        { policy: 'length', parameter: 12, message: 'The password must have at least 12 characters.' },
        { policy: 'digits', parameter: 2, message: 'The password must contain at least 2 digits.' },
        { policy: 'upperCase', parameter: 1, message: 'The password must contain at least 1 upper-case letter.' },
        { policy: 'notUsername', message: 'The password must not be the username.' },
        { policy: 'regexPattern', parameter: '[^ ]+', message: 'The password must match the pattern [^ ]+.' },
      ],
    });
  });

  it('needs a token', async () => {
    expectError(await call(service.app, 'get', POLICY), 401, 'invalid_token', 'bare');
  });
});

describe('reset-password against a policy of several rules', () => {
  it('reports every broken rule at once', async () => {
    const { token } = await service.createUser('lou', 'LOUISIANA11zz');
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'LOUISIANA11zz', newPassword: 'lou' } });
    expectError(res, 400, 'invalid_password');
    expect((res.body as { violations: { policy: string }[] }).violations.map((v) => v.policy)).toEqual(['length', 'digits', 'upperCase', 'notUsername']);
  });
});

describe('the default policy (NIST SP 800-63B)', () => {
  let nist: TestService;
  beforeAll(async () => {
    nist = await startTestService('policy-default');
  });
  afterAll(async () => nist.close());

  it('refuses a common or breached password, and says so beside the other broken rules', async () => {
    const { token } = await nist.createUser('mona', 'mona first passphrase');
    const attempt = async (newPassword: string) => call(nist.app, 'post', RESET, { token, body: { currentPassword: 'mona first passphrase', newPassword } });
    const common = await attempt('Iloveyou');
    expectError(common, 400, 'invalid_password');
    expect(common.body).toMatchObject({ violations: [{ policy: 'notCompromised', message: 'The password must not be a common or breached password.' }] });
    const both = await attempt('qwerty');
    expect((both.body as { violations: { policy: string }[] }).violations.map((v) => v.policy)).toEqual(['length', 'notCompromised']);
    expect((await attempt('mona second passphrase')).status).toBe(204);
  });
});
