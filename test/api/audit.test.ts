import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import pino from 'pino';
import { createApp } from '../../src/app';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources } from '../../src/index';
import { call } from '../helpers/api';
import { testDatabaseUri } from '../helpers/db';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE } from '../helpers/setup';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const RESET = '/realms/alpha/password-resources/reset-password';
let issuer: TestIssuer;
let resources: PasswordResources;
let uri: string;
const logLines: string[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  uri = testDatabaseUri('audit');
  const logger = pino({ level: 'trace' }, new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  }));
  resources = createPasswordResources({
    mongodbUri: uri,
    realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: { ...RELAXED_BRUTE_FORCE, failureFactor: 3 } } },
    bcryptCost: 10,
    logger,
    trustedProxies: ['loopback'],
  });
  await resources.ready();
});
afterAll(async () => {
  await resources.close();
  await issuer.stop();
});

interface StoredEvent {
  type: string;
  realm: string;
  userId: string;
  clientId?: string;
  ip?: string;
  time: Date;
  error?: string;
}

async function eventsOf(userId: string): Promise<StoredEvent[]> {
  const connection = await mongoose.createConnection(uri).asPromise();
  try {
    return await connection.collection<StoredEvent>('events').find({ userId }, { projection: { _id: 0 } }).sort({ time: 1, _id: 1 }).toArray();
  } finally {
    await connection.close();
  }
}

describe('audit events', () => {
  it('records every validation and change, success or failure, with client, IP and error, and logs them', async () => {
    const app = createApp(resources, pino({ level: 'silent' }));
    const user = await resources.accounts.createUser({ realm: 'alpha', username: 'hilda', password: 'hilda first password' });
    const token = await issuer.sign({ sub: user.id, azp: 'account-console' });
    const headers = { 'X-Forwarded-For': '203.0.113.7' };
    await call(app, 'post', VALIDATE, { token, headers, body: { password: 'hilda first password' } });
    await call(app, 'post', VALIDATE, { token, headers, body: { password: 'not hilda' } });
    await call(app, 'post', RESET, { token, headers, body: { currentPassword: 'hilda first password', newPassword: 'x' } });
    await call(app, 'post', RESET, { token, headers, body: { currentPassword: 'hilda first password', newPassword: 'hilda second password' } });
    const events = await eventsOf(user.id);
    expect(events.map(({ type, error }) => (error ? `${type}:${error}` : type))).toEqual([
      'VALIDATE_PASSWORD',
      'VALIDATE_PASSWORD_ERROR:invalid_user_credentials',
      'UPDATE_PASSWORD_ERROR:invalid_password',
      'UPDATE_PASSWORD',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ realm: 'alpha', userId: user.id, clientId: 'account-console', ip: '203.0.113.7' });
      expect(event.time).toBeInstanceOf(Date);
    }
    expect(logLines.filter((line) => line.includes('"audit event"'))).toHaveLength(4);
  });

  it('records a lockout', async () => {
    const app = createApp(resources, pino({ level: 'silent' }));
    const user = await resources.accounts.createUser({ realm: 'alpha', username: 'ingo', password: 'ingo first password' });
    const token = await issuer.sign({ sub: user.id });
    for (let i = 0; i < 3; i++) await call(app, 'post', VALIDATE, { token, body: { password: 'wrong' } });
    const types = (await eventsOf(user.id)).map((event) => event.type);
    expect(types).toContain('USER_DISABLED_BY_TEMPORARY_LOCKOUT');
  });

  it('never stores or logs a password, a hash of one or a token', async () => {
    const app = createApp(resources, pino({ level: 'silent' }));
    const secrets = ['jolene very secret one', 'jolene very secret two', 'jolene wrong guess'];
    const user = await resources.accounts.createUser({ realm: 'alpha', username: 'jolene', password: secrets[0] });
    const token = await issuer.sign({ sub: user.id });
    await call(app, 'post', VALIDATE, { token, body: { password: secrets[0] } });
    await call(app, 'post', VALIDATE, { token, body: { password: secrets[2] } });
    await call(app, 'post', RESET, { token, body: { currentPassword: secrets[0], newPassword: secrets[1] } });
    await call(app, 'post', VALIDATE, { token: `${token}x`, body: { password: secrets[1] } });

    const connection = await mongoose.createConnection(uri).asPromise();
    let dump = '';
    try {
      const db = connection.db;
      if (!db) throw new Error('no db');
      for (const { name } of await db.listCollections().toArray()) dump += JSON.stringify(await db.collection(name).find().toArray());
    } finally {
      await connection.close();
    }
    const logs = logLines.join('');
    for (const secret of [...secrets, token, token.split('.')[2] ?? token]) {
      expect(dump).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    expect(dump).toContain('jolene'); // the dump is real: the user is in it
  });
});
