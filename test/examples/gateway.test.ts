import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import pino from 'pino';
import { createGateway } from '../../examples/gateway/gateway';
import type { Gateway } from '../../examples/gateway/gateway';
import { testDatabaseUri } from '../helpers/db';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE } from '../helpers/setup';

/**
 * examples/gateway: a gateway with its own routes, logger and mongoose
 * connection, the password resources mounted under /accounts, over real HTTP.
 */
let issuer: TestIssuer;
let connection: Connection;
let gateway: Gateway;
let server: Server;
let base: string;
let routerClosed = false;
const logLines: Record<string, unknown>[] = [];
const PASSWORD = 'correct horse battery staple';
const accounts = '/accounts/realms/alpha/password-resources';

async function send(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
      ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const json = res.headers.get('content-type')?.startsWith('application/json') === true;
  // JSON.parse, not res.json(): fetch's arrays come from another realm than jest's `Array`.
  const text = await res.text();
  return { status: res.status, body: json ? (JSON.parse(text) as unknown) : text, headers: res.headers };
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  connection = await mongoose.createConnection(testDatabaseUri('example-gateway')).asPromise();
  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  gateway = createGateway({
    connection,
    logger: pino({ name: 'gateway' }, lines),
    realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE } },
  });
  await gateway.passwords.ready();
  server = createServer(gateway.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  if (!routerClosed) await gateway.close();
  await connection.close();
  await issuer.stop();
});

describe('the gateway example', () => {
  let alice: { id: string; token: string };

  beforeAll(async () => {
    const user = await gateway.passwords.accounts.createUser({ realm: 'alpha', username: 'alice', password: PASSWORD });
    alice = { id: user.id, token: await issuer.sign({ sub: user.id }) };
  });

  it('answers its own routes beside the mounted router', async () => {
    expect(await send('GET', '/status')).toMatchObject({ status: 200, body: { gateway: 'up', database: 'connected' } });
    expect(await send('POST', '/notes', { body: { text: 'hello' } })).toMatchObject({ status: 201, body: { text: 'hello' } });
    expect(await send('GET', '/notes')).toMatchObject({ status: 200, body: [{ text: 'hello' }] });
  });

  it('serves the password resources under its prefix, and not outside it', async () => {
    expect(await send('GET', `${accounts}/password-policy`, { token: alice.token })).toMatchObject({ status: 200, body: { rules: expect.any(Array) as unknown } });
    expect(await send('POST', `${accounts}/validate-password`, { token: alice.token, body: { password: PASSWORD } })).toMatchObject({ status: 200, body: { valid: true } });
    const outside = await send('POST', '/realms/alpha/password-resources/validate-password', { token: alice.token, body: { password: PASSWORD } });
    expect(outside.status).toBe(404);
    expect(outside.headers.get('content-type')).toMatch(/text\/html/); // the gateway's (Express's) own 404
  });

  it('keeps the router\'s collections and its own in the one database of its connection', async () => {
    const collections = (await connection.listCollections()).map((collection) => collection.name);
    expect(collections).toEqual(expect.arrayContaining(['gateway_notes', 'users']));
  });

  it('changes the password through the prefix, and then refuses the old token in the router\'s error model', async () => {
    const changed = await send('POST', `${accounts}/reset-password`, { token: alice.token, body: { currentPassword: PASSWORD, newPassword: 'a much longer new passphrase' } });
    expect(changed.status).toBe(204);
    const refused = await send('POST', `${accounts}/validate-password`, { token: alice.token, body: { password: 'a much longer new passphrase' } });
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="alpha", error="invalid_token"/);
    const fresh = await issuer.signAfterChange(alice.id);
    expect(await send('POST', `${accounts}/validate-password`, { token: fresh, body: { password: 'a much longer new passphrase' } })).toMatchObject({ status: 200, body: { valid: true } });
  });

  it('logs every request with its own logger, the router\'s lines marked as such, and no token or password', () => {
    const audit = logLines.filter((line) => line.msg === 'audit event');
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((line) => line.component === 'password-resources')).toBe(true);
    const requests = logLines.filter((line) => line.req !== undefined);
    const paths = requests.map((line) => (line.req as { url: string }).url);
    expect(paths).toEqual(expect.arrayContaining(['/status', `${accounts}/reset-password`]));
    expect(logLines.every((line) => line.name === 'gateway')).toBe(true);
    const text = JSON.stringify(logLines);
    expect(text).not.toContain(alice.token);
    expect(text).not.toContain(PASSWORD);
  });

  it('keeps its connection, and its own routes, when the router closes', async () => {
    await gateway.close();
    routerClosed = true;
    expect(connection.readyState).toBe(1);
    expect(await send('GET', '/status')).toMatchObject({ status: 200, body: { database: 'connected' } });
    expect(await send('GET', '/notes')).toMatchObject({ status: 200, body: [{ text: 'hello' }] });
  });
});
