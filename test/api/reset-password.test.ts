import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const RESET = '/realms/alpha/password-resources/reset-password';
const VALIDATE = '/realms/alpha/password-resources/validate-password';
let service: TestService;

beforeAll(async () => {
  service = await startTestService('reset', { passwordPolicy: 'length(10) and maxLength(40)' });
});
afterAll(async () => service.close());

/** Validate with a token issued after any change so far (older ones are revoked by a change). */
async function validates(id: string, password: string): Promise<boolean> {
  const token = await service.issuer.signAfterChange(id);
  const res = await call(service.app, 'post', VALIDATE, { token, body: { password } });
  expect(res.status).toBe(200);
  return (res.body as { valid: boolean }).valid;
}

async function storedHash(username: string): Promise<string | undefined> {
  return (await service.resources.accounts.findByUsername('alpha', username))?.credential?.hash;
}

describe('reset-password', () => {
  it('changes the password: 204, then only the new one validates', async () => {
    const { id, token } = await service.createUser('rita', 'rita old password');
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'rita old password', newPassword: 'rita new password' } });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    await expect(validates(id, 'rita new password')).resolves.toBe(true);
    await expect(validates(id, 'rita old password')).resolves.toBe(false);
  });

  it('refuses a wrong current password with 401 and the bare challenge, before hashing anything or changing a thing', async () => {
    const { token } = await service.createUser('sam', 'sam old password');
    const before = await storedHash('sam');
    const hashes = service.counts.hash;
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'sam wrong password', newPassword: 'x' } });
    expectError(res, 401, 'invalid_current_password', 'bare');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="alpha"');
    expect(service.counts.hash).toBe(hashes); // the new password was never hashed, nor even checked
    await expect(storedHash('sam')).resolves.toBe(before);
  });

  it('lists every broken rule of the policy at once, changing nothing', async () => {
    const { token } = await service.createUser('tina', 'tina old password');
    const before = await storedHash('tina');
    const short = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'tina old password', newPassword: 'short' } });
    expectError(short, 400, 'invalid_password');
    expect((short.body as { violations: unknown }).violations).toEqual([
      { policy: 'length', parameter: 10, message: 'The password must have at least 10 characters.' },
    ]);
    const long = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'tina old password', newPassword: 'x'.repeat(41) } });
    expect((long.body as { violations: { policy: string }[] }).violations.map((v) => v.policy)).toEqual(['maxLength']);
    await expect(storedHash('tina')).resolves.toBe(before);
  });

  it('refuses a new password equal to the current one (also in another Unicode form)', async () => {
    const { token } = await service.createUser('ursula', 'caf\u00e9 ursula password');
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'caf\u00e9 ursula password', newPassword: 'cafe\u0301 ursula password' } });
    expectError(res, 400, 'invalid_password');
    expect((res.body as { violations: { policy: string }[] }).violations).toEqual([
      { policy: 'notCurrentPassword', message: 'The new password must differ from the current password.' },
    ]);
  });

  it('lets exactly one of 20 concurrent changes win; afterwards only the winner\'s password validates', async () => {
    const { id, token } = await service.createUser('victor', 'victor old password');
    const candidates = Array.from({ length: 20 }, (_, i) => `victor new password ${i}`);
    const responses = await Promise.all(
      candidates.map((newPassword) => call(service.app, 'post', RESET, { token, body: { currentPassword: 'victor old password', newPassword } })),
    );
    const statuses = responses.map((res) => res.status);
    expect(statuses.filter((status) => status === 204)).toHaveLength(1);
    for (const res of responses) {
      if (res.status === 409) expectError(res, 409, 'conflict');
      // A loser that arrives after the winner's change finds the current password wrong, or its token revoked.
      else if (res.status === 401) expect(['invalid_current_password', 'invalid_token']).toContain((res.body as { error: string }).error);
      else expect(res.status).toBe(204);
    }
    const winner = candidates[statuses.indexOf(204)] ?? '';
    const valid = [];
    for (const candidate of [...candidates, 'victor old password']) if (await validates(id, candidate)) valid.push(candidate);
    expect(valid).toEqual([winner]);
    // 22 hashes one after another: on a busy shared machine each can take a second.
  }, 90_000);

  it('does not truncate: a password sharing the first 72 bytes of the real one does not validate', async () => {
    const prefix = 'p'.repeat(72);
    const open = await startTestService('reset-72', { passwordPolicy: 'length(8)' }, service.issuer);
    try {
      const user = await open.createUser('xavier', `${prefix}-first`);
      const ok = await call(open.app, 'post', VALIDATE, { token: user.token, body: { password: `${prefix}-first` } });
      const other = await call(open.app, 'post', VALIDATE, { token: user.token, body: { password: `${prefix}-other` } });
      expect([ok.body, other.body]).toEqual([{ valid: true }, { valid: false }]);
    } finally {
      await open.close();
    }
  });

  it('accepts a 100-character passphrase, to set and to validate', async () => {
    const passphrase = 'correct horse battery staple '.repeat(4).slice(0, 100);
    const open = await startTestService('reset-100', { passwordPolicy: 'length(8) and maxLength(128)' }, service.issuer);
    try {
      const { id, token } = await open.createUser('yvonne', 'yvonne old password');
      const res = await call(open.app, 'post', RESET, { token, body: { currentPassword: 'yvonne old password', newPassword: passphrase } });
      expect(res.status).toBe(204);
      const check = await call(open.app, 'post', VALIDATE, { token: await open.issuer.signAfterChange(id), body: { password: passphrase } });
      expect(check.body).toEqual({ valid: true });
    } finally {
      await open.close();
    }
  });

  it('treats the composed and decomposed forms of a password alike (NFKC)', async () => {
    const { id, token } = await service.createUser('zoe', 'zoe cafe\u0301 password');
    await expect(validates(id, 'zoe caf\u00e9 password')).resolves.toBe(true);
    const res = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'zoe caf\u00e9 password', newPassword: 'zoe cr\u00e8me password' } });
    expect(res.status).toBe(204);
    await expect(validates(id, 'zoe cre\u0300me password')).resolves.toBe(true);
  });
});

describe('a temporary password on the account API', () => {
  it('shows UPDATE_PASSWORD on validate-password for the right password only, and reset-password clears it', async () => {
    const user = await service.resources.accounts.createUser({ realm: 'alpha', username: 'yara', password: 'yara temporary one', temporary: true });
    const token = await service.issuer.sign({ sub: user.id });
    const right = await call(service.app, 'post', VALIDATE, { token, body: { password: 'yara temporary one' } });
    expect(right.body).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
    const wrong = await call(service.app, 'post', VALIDATE, { token, body: { password: 'not yara' } });
    expect(wrong.body).toEqual({ valid: false });
    const reset = await call(service.app, 'post', RESET, { token, body: { currentPassword: 'yara temporary one', newPassword: 'yara chosen password' } });
    expect(reset.status).toBe(204);
    const after = await call(service.app, 'post', VALIDATE, { token: await service.issuer.signAfterChange(user.id), body: { password: 'yara chosen password' } });
    expect(after.body).toEqual({ valid: true });
  });
});
