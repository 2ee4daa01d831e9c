import bcrypt from 'bcrypt';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { call } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const RESET = '/realms/alpha/password-resources/reset-password';
const VALIDATE = '/realms/alpha/password-resources/validate-password';
const DAY_MS = 24 * 60 * 60 * 1000;
const daysAgo = (days: number): Date => new Date(Date.now() - days * DAY_MS);

let service: TestService;
let connection: Connection;

beforeAll(async () => {
  service = await startTestService('password-age', { passwordPolicy: 'length(8) and passwordAge(30) and forceExpiredPasswordChange(90)' });
  connection = await mongoose.createConnection(service.uri, { bufferCommands: false }).asPromise();
});
afterAll(async () => {
  await connection.close();
  await service.close();
});

/** What the database holds for a user: the tests move its dates back, as time would. */
const users = () => connection.collection<{ userId: string; credential: { createdAt: Date; hash: string; algorithm: string }; previousCredentials: { createdAt: Date }[] }>('users');

async function change(id: string, from: string, to: string): Promise<{ status: number; policies: string[] }> {
  const res = await call(service.app, 'post', RESET, { token: await service.issuer.signAfterChange(id), body: { currentPassword: from, newPassword: to } });
  return { status: res.status, policies: ((res.body as { violations?: { policy: string }[] } | undefined)?.violations ?? []).map((v) => v.policy) };
}

describe('passwordAge(30)', () => {
  it('refuses a password in use during the last 30 days, and allows it once it has been retired longer', async () => {
    const { id } = await service.createUser('tomas', 'tomas password A');
    expect((await change(id, 'tomas password A', 'tomas password B')).status).toBe(204);
    expect((await change(id, 'tomas password B', 'tomas password C')).status).toBe(204);
    expect(await change(id, 'tomas password C', 'tomas password A')).toEqual({ status: 400, policies: ['passwordAge'] });
    expect(await change(id, 'tomas password C', 'tomas password B')).toEqual({ status: 400, policies: ['passwordAge'] });

    // A was set 100 days ago and replaced 40 days ago by B, which C replaced 35 days ago.
    const stored = await users().findOne({ userId: id });
    expect(stored?.previousCredentials).toHaveLength(2);
    await users().updateOne(
      { userId: id },
      { $set: { 'previousCredentials.0.createdAt': daysAgo(100), 'previousCredentials.1.createdAt': daysAgo(40), 'credential.createdAt': daysAgo(35) } },
    );
    expect((await change(id, 'tomas password C', 'tomas password A')).status).toBe(204);
    // Only C was in use within the 30 days; the older ones are no longer kept.
    expect((await users().findOne({ userId: id }))?.previousCredentials).toHaveLength(1);
    expect(await change(id, 'tomas password A', 'tomas password C')).toEqual({ status: 400, policies: ['passwordAge'] });
    expect((await change(id, 'tomas password A', 'tomas password B')).status).toBe(204);
  });

  it('applies to an administrator setting the current password again', async () => {
    await service.createUser('ursula', 'ursula password A');
    const user = await service.resources.accounts.findByUsername('alpha', 'ursula');
    if (!user) throw new Error('ursula missing');
    await expect(service.resources.accounts.setPassword(user, 'ursula password A', { temporary: false })).rejects.toMatchObject({
      violations: [{ policy: 'passwordAge', parameter: 30, message: 'The password must not be one used in the last 30 days.' }],
    });
  });
});

describe('forceExpiredPasswordChange(90)', () => {
  it('asks for a new password (UPDATE_PASSWORD) once the password is 90 days old, and a change ends it', async () => {
    const { id, token } = await service.createUser('viktor', 'viktor password A');
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: 'viktor password A' } })).body).toEqual({ valid: true });

    await users().updateOne({ userId: id }, { $set: { 'credential.createdAt': daysAgo(91) } });
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: 'viktor password A' } })).body).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
    // Never to someone who does not know the password.
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: 'viktor password X' } })).body).toEqual({ valid: false });

    expect((await change(id, 'viktor password A', 'viktor password B')).status).toBe(204);
    const fresh = await service.issuer.signAfterChange(id);
    expect((await call(service.app, 'post', VALIDATE, { token: fresh, body: { password: 'viktor password B' } })).body).toEqual({ valid: true });
  });

  it("counts from when the password was set, not from when it was last re-hashed in the realm's scheme", async () => {
    const { id, token } = await service.createUser('wanda', 'wanda password A');
    // Taken over from another system as plain bcrypt, 100 days ago.
    const foreign = await bcrypt.hash('wanda password A', 4);
    await users().updateOne({ userId: id }, { $set: { credential: { algorithm: 'bcrypt', hash: foreign, createdAt: daysAgo(100) } } });

    const first = await call(service.app, 'post', VALIDATE, { token, body: { password: 'wanda password A' } });
    expect(first.body).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
    const upgraded = await users().findOne({ userId: id });
    expect(upgraded?.credential.hash).toMatch(/^\$argon2id\$/);
    expect(upgraded?.credential.createdAt.getTime()).toBeLessThan(daysAgo(99).getTime());
    expect((await call(service.app, 'post', VALIDATE, { token, body: { password: 'wanda password A' } })).body).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
  });

  it('shows both rules in the policy for account pages', async () => {
    const { token } = await service.createUser('xenia', 'xenia password A');
    const res = await call(service.app, 'get', '/realms/alpha/password-resources/password-policy', { token });
    expect((res.body as { rules: unknown[] }).rules).toEqual(
      expect.arrayContaining([
        { policy: 'passwordAge', parameter: 30, message: 'The password must not be one used in the last 30 days.' },
        { policy: 'forceExpiredPasswordChange', parameter: 90, message: 'The password must be changed every 90 days.' },
      ]),
    );
  });
});
