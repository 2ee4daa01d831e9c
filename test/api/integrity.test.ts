import { Writable } from 'node:stream';
import type { Express } from 'express';
import mongoose from 'mongoose';
import pino from 'pino';
import { createApp } from '../../src/app';
import { call, expectError } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const BASE = '/realms/alpha/password-resources';
const PASSWORD = 'ulrike long password';
const lines: string[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  }),
);
let issuer: TestIssuer;
let service: TestService;
let app: Express;
let connection: mongoose.Connection;

beforeAll(async () => {
  // A lockout threshold of 2: were a broken credential counted as a wrong guess, the third request would be 429.
  issuer = await TestIssuer.start();
  service = await startTestService('integrity', { logger, realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: { failureFactor: 2, quickLoginCheckMilliSeconds: 0 } } } }, issuer);
  app = createApp(service.resources, logger);
  connection = await mongoose.createConnection(service.uri).asPromise();
});
afterAll(async () => {
  await connection.close();
  await service.close();
  await issuer.stop();
});

/** Overwrite fields of a user's stored document, as a bad migration or a disk error would. */
async function corrupt(id: string, fields: Record<string, unknown>): Promise<void> {
  const result = await connection.collection('users').updateOne({ realm: 'alpha', userId: id }, { $set: fields });
  expect(result.modifiedCount).toBe(1);
}

/** [case, the fields overwritten] */
const corruptions: [string, Record<string, unknown>][] = [
  ['a hash that is not a hash', { 'credential.hash': 'not-a-bcrypt-hash' }],
  ['a bcrypt hash cut short', { 'credential.hash': '$2b$10$abcdefghijklmnopqrstuv' }],
  ['a hash that is a number', { 'credential.hash': 42 }],
  ['an algorithm nobody knows', { 'credential.algorithm': 'md5-crypt' }],
  ['a pbkdf2 credential without its salt', { 'credential.algorithm': 'pbkdf2-sha256', 'credential.parameters': { iterations: 27500 } }],
];

describe('a stored credential that cannot be checked', () => {
  it.each(corruptions)('%s: 500 with the request id, a log line naming the user, no failed guess', async (label, fields) => {
    const username = `ulrike-${corruptions.findIndex(([name]) => name === label)}`;
    const { id, token } = await service.createUser(username, PASSWORD);
    const hashBefore = (await service.resources.accounts.findByUsername('alpha', username))?.credential?.hash;
    await corrupt(id, fields);
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = lines.length;
      const res = await call(app, 'post', `${BASE}/validate-password`, { token, body: { password: PASSWORD } });
      expectError(res, 500, 'server_error');
      const requestId = String(res.headers['x-request-id']);
      expect(res.body).toEqual({ error: 'server_error', error_description: `The server could not complete the request. Request id: ${requestId}.` });
      const errors = lines.slice(before).map((line) => JSON.parse(line) as { level: number; userId?: string; requestId?: string; msg: string }).filter((line) => line.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ userId: id, requestId, msg: expect.stringContaining('integrity') as unknown });
      for (const line of lines.slice(before)) {
        expect(line).not.toContain(PASSWORD);
        if (hashBefore !== undefined) expect(line).not.toContain(hashBefore);
        if (typeof fields['credential.hash'] === 'string') expect(line).not.toContain(fields['credential.hash']);
      }
    }
    // Three requests, threshold 2, and still no lockout: none counted as a wrong password (each guess, taken
    // from the budget before its hash, was given back).
    const user = await service.resources.accounts.findByUsername('alpha', username);
    expect(user?.loginFailures?.count ?? 0).toBe(0);
    expect(user?.loginFailures?.lockedUntil).toBeUndefined();
    const change = await call(app, 'post', `${BASE}/reset-password`, { token, body: { currentPassword: PASSWORD, newPassword: 'ulrike newer password' } });
    expectError(change, 500, 'server_error');
  });
});
