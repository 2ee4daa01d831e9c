import mongoose from 'mongoose';
import pino from 'pino';
import { createApp } from '../../src/app';
import { createPasswordHasher } from '../../src/domain/hashing';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources } from '../../src/index';
import type { BruteForceSettings } from '../../src/domain/lockout';
import { call, expectError } from '../helpers/api';
import { testDatabaseUri } from '../helpers/db';
import { TestIssuer } from '../helpers/issuer';
import { countingHasher, RELAXED_HASH_QUEUE } from '../helpers/setup';
import type { HashCounts } from '../helpers/setup';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const RESET = '/realms/alpha/password-resources/reset-password';
const PASSWORD = 'the right password';
let issuer: TestIssuer;
const opened: { resources: PasswordResources; connection?: mongoose.Connection }[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  for (const { resources, connection } of opened) {
    await resources.close();
    await connection?.close();
  }
  await issuer.stop();
});

/** An instance of the service: its own router on its own connection to `uri`. */
async function instance(uri: string, bruteForce: Partial<BruteForceSettings>) {
  const counts: HashCounts = { verify: 0, hash: 0 };
  const connection = await mongoose.createConnection(uri, { bufferCommands: false }).asPromise();
  const resources = createPasswordResources({
    connection,
    realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce } },
    bcryptCost: 10,
    hashQueue: RELAXED_HASH_QUEUE,
    hasher: countingHasher(createPasswordHasher(), counts),
    logger: pino({ level: 'silent' }),
  });
  await resources.ready();
  opened.push({ resources, connection });
  return { resources, counts, app: createApp(resources, pino({ level: 'silent' })) };
}

async function userOn(resources: PasswordResources, username: string): Promise<string> {
  const user = await resources.accounts.createUser({ realm: 'alpha', username, password: PASSWORD });
  return user.id;
}

const FACTOR_5 = { failureFactor: 5, quickLoginCheckMilliSeconds: 0, waitIncrementSeconds: 60 };

describe('brute force lockout', () => {
  it('answers the first five wrong passwords normally, then 429 with Retry-After without checking, even the right one', async () => {
    const { resources, counts, app } = await instance(testDatabaseUri('lockout'), FACTOR_5);
    const token = await issuer.sign({ sub: await userOn(resources, 'ada') });
    for (let i = 0; i < 5; i++) {
      const res = await call(app, 'post', VALIDATE, { token, body: { password: `wrong ${i}` } });
      expect(res.body).toEqual({ valid: false });
    }
    const before = { ...counts };
    const locked = await call(app, 'post', VALIDATE, { token, body: { password: PASSWORD } });
    expectError(locked, 429, 'too_many_failures');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(55);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
    const reset = await call(app, 'post', RESET, { token, body: { currentPassword: PASSWORD, newPassword: 'a brand new password' } });
    expectError(reset, 429, 'too_many_failures');
    expect(counts).toEqual(before);
  });

  it('counts wrong current passwords on reset-password, and a success starts the count again', async () => {
    const { resources, app } = await instance(testDatabaseUri('lockout-reset'), FACTOR_5);
    const token = await issuer.sign({ sub: await userOn(resources, 'bea') });
    const wrong = () => call(app, 'post', RESET, { token, body: { currentPassword: 'not it', newPassword: 'a brand new password' } });
    for (let i = 0; i < 4; i++) expectError(await wrong(), 401, 'invalid_current_password', 'bare');
    expect((await call(app, 'post', VALIDATE, { token, body: { password: PASSWORD } })).body).toEqual({ valid: true });
    for (let i = 0; i < 4; i++) expectError(await wrong(), 401, 'invalid_current_password', 'bare');
    expect((await call(app, 'post', VALIDATE, { token, body: { password: PASSWORD } })).body).toEqual({ valid: true });
    for (let i = 0; i < 5; i++) await wrong();
    expectError(await wrong(), 429, 'too_many_failures');
  });

  it('enforces one limit across two instances on the same database', async () => {
    const uri = testDatabaseUri('lockout-two');
    const one = await instance(uri, FACTOR_5);
    const two = await instance(uri, FACTOR_5);
    const token = await issuer.sign({ sub: await userOn(one.resources, 'cleo') });
    for (let i = 0; i < 3; i++) expect((await call(one.app, 'post', VALIDATE, { token, body: { password: 'no' } })).body).toEqual({ valid: false });
    for (let i = 0; i < 2; i++) expect((await call(two.app, 'post', VALIDATE, { token, body: { password: 'no' } })).body).toEqual({ valid: false });
    expectError(await call(one.app, 'post', VALIDATE, { token, body: { password: PASSWORD } }), 429, 'too_many_failures');
    expectError(await call(two.app, 'post', VALIDATE, { token, body: { password: PASSWORD } }), 429, 'too_many_failures');
  });

  it('loses no failure when many arrive at once on two instances', async () => {
    const uri = testDatabaseUri('lockout-burst');
    const one = await instance(uri, { failureFactor: 1_000, quickLoginCheckMilliSeconds: 0 });
    const two = await instance(uri, { failureFactor: 1_000, quickLoginCheckMilliSeconds: 0 });
    const token = await issuer.sign({ sub: await userOn(one.resources, 'dora') });
    await Promise.all(Array.from({ length: 12 }, (_, i) => call(i % 2 ? one.app : two.app, 'post', VALIDATE, { token, body: { password: `no ${i}` } })));
    const user = await one.resources.accounts.findByUsername('alpha', 'dora');
    expect(user?.loginFailures?.count).toBe(12);
  });

  it('locks a quick second failure for the minimum quick-login wait', async () => {
    const { resources, app } = await instance(testDatabaseUri('lockout-quick'), { quickLoginCheckMilliSeconds: 60_000, minimumQuickLoginWaitSeconds: 30 });
    const token = await issuer.sign({ sub: await userOn(resources, 'edna') });
    await call(app, 'post', VALIDATE, { token, body: { password: 'no' } });
    await call(app, 'post', VALIDATE, { token, body: { password: 'no again' } });
    const res = await call(app, 'post', VALIDATE, { token, body: { password: PASSWORD } });
    expectError(res, 429, 'too_many_failures');
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(30);
  });

  it('lets the user in again when the lockout is over', async () => {
    const { resources, app } = await instance(testDatabaseUri('lockout-over'), { failureFactor: 2, waitIncrementSeconds: 1, quickLoginCheckMilliSeconds: 0 });
    const token = await issuer.sign({ sub: await userOn(resources, 'fay') });
    await call(app, 'post', VALIDATE, { token, body: { password: 'no' } });
    await call(app, 'post', VALIDATE, { token, body: { password: 'no' } });
    expectError(await call(app, 'post', VALIDATE, { token, body: { password: PASSWORD } }), 429, 'too_many_failures');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await call(app, 'post', VALIDATE, { token, body: { password: PASSWORD } })).body).toEqual({ valid: true });
  });

  it('disables the user on a permanent lockout, so its tokens stop working', async () => {
    const { resources, app } = await instance(testDatabaseUri('lockout-permanent'), { failureFactor: 3, permanentLockout: true, quickLoginCheckMilliSeconds: 0 });
    const token = await issuer.sign({ sub: await userOn(resources, 'gia') });
    for (let i = 0; i < 3; i++) expect((await call(app, 'post', VALIDATE, { token, body: { password: 'no' } })).body).toEqual({ valid: false });
    expectError(await call(app, 'post', VALIDATE, { token, body: { password: PASSWORD } }), 401, 'invalid_token', 'error');
    expect((await resources.accounts.findByUsername('alpha', 'gia'))?.enabled).toBe(false);
  });
});
