import request from 'supertest';
import type { Response } from 'supertest';
import { call, expectError } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { TestSmtpServer } from '../helpers/smtp';

/**
 * The hard cap on a new password (1024 characters) is a `maxLength`
 * violation, answered before any hash on every route that sets a password;
 * a body over the size limit is still 413.
 */
const PUBLIC_URL = 'https://accounts.example';
const BASE = '/realms/alpha/password-resources';
const USERS = '/admin/realms/alpha/users';
/** One character over the cap, with a digit so that only the length is wrong in alpha. */
const OVER_CAP = `1${'x'.repeat(1024)}`;
const CAP_VIOLATION = { policy: 'maxLength', parameter: 1024, message: 'The password must have at most 1024 characters.' };
/** A body of 1 MB: far over the default limit of 16 KiB. */
const ONE_MB = 1024 * 1024;
/** What the issue promises a caller waits, at most, for the answer. */
const PROMISED_MS = 500;

let issuer: TestIssuer;
let smtp: TestSmtpServer;
let service: TestService;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  smtp = await TestSmtpServer.start();
  service = await startTestService(
    'password-cap',
    {
      publicUrl: PUBLIC_URL,
      realms: {
        // No maxLength of its own: the hard cap speaks, beside the other rules.
        alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE, smtp: smtp.settings(), passwordPolicy: 'length(10) and digits(1) and passwordHistory(3)' },
        beta: { issuer: issuer.issuerOf('beta'), bruteForce: RELAXED_BRUTE_FORCE, passwordPolicy: 'length(10) and maxLength(64) and upperCase(1)' },
      },
    },
    issuer,
  );
});
afterAll(async () => {
  await service.close();
  await smtp.stop();
  await issuer.stop();
});

const admin = (realm = 'alpha'): Promise<string> =>
  issuer.sign({ sub: 'admin-cap', azp: 'admin-cli', resource_access: { 'realm-management': { roles: ['manage-users'] } } }, { realm });

async function user(username: string, password: string, realm = 'alpha'): Promise<{ id: string; token: string; email: string }> {
  const email = `${username}@example.com`;
  const created = await service.resources.accounts.createUser({ realm, username, email, password });
  return { id: created.id, token: await issuer.sign({ sub: created.id }, { realm }), email };
}

async function storedHash(username: string, realm = 'alpha'): Promise<string | undefined> {
  return (await service.resources.accounts.findByUsername(realm, username))?.credential?.hash;
}

/** Run `send` and say how long it took and how many hashes and verifications it cost. */
async function measured(send: () => Promise<Response>): Promise<{ res: Response; ms: number; hashes: number }> {
  const before = service.counts.hash + service.counts.verify;
  const started = performance.now();
  const res = await send();
  return { res, ms: performance.now() - started, hashes: service.counts.hash + service.counts.verify - before };
}

function expectCapViolation(res: Response, violations: unknown[]): void {
  expectError(res, 400, 'invalid_password');
  expect((res.body as { violations: unknown }).violations).toEqual(violations);
}

describe('a new password over the hard cap of 1024 characters', () => {
  beforeAll(async () => {
    // The key set fetched once, so the times below are the answer's, not the first fetch's.
    await call(service.app, 'get', `${BASE}/password-policy`, { token: await issuer.sign({ sub: 'warm-up' }) });
  });

  it('is a maxLength violation on reset-password, beside the other broken rules, before the current password is checked', async () => {
    const { token } = await user('capped-carla', 'carla old password 1');
    const before = await storedHash('capped-carla');
    for (const currentPassword of ['carla old password 1', 'not her password at all']) {
      const { res, ms, hashes } = await measured(() => call(service.app, 'post', `${BASE}/reset-password`, { token, body: { currentPassword, newPassword: OVER_CAP } }));
      expectCapViolation(res, [CAP_VIOLATION]);
      expect({ ms: ms < PROMISED_MS, hashes }).toEqual({ ms: true, hashes: 0 });
    }
    const noDigit = await call(service.app, 'post', `${BASE}/reset-password`, { token, body: { currentPassword: 'carla old password 1', newPassword: 'x'.repeat(5_000) } });
    expectCapViolation(noDigit, [{ policy: 'digits', parameter: 1, message: 'The password must contain at least 1 digit.' }, CAP_VIOLATION]);
    await expect(storedHash('capped-carla')).resolves.toBe(before);
  });

  it("is the realm's own maxLength violation where the realm has one", async () => {
    const { token } = await user('capped-bert', 'Bert old password', 'beta');
    const { res, hashes } = await measured(() =>
      call(service.app, 'post', '/realms/beta/password-resources/reset-password', { token, body: { currentPassword: 'Bert old password', newPassword: 'y'.repeat(2_000) } }),
    );
    expectCapViolation(res, [
      { policy: 'maxLength', parameter: 64, message: 'The password must have at most 64 characters.' },
      { policy: 'upperCase', parameter: 1, message: 'The password must contain at least 1 upper-case letter.' },
    ]);
    expect(hashes).toBe(0);
  });

  it('counts characters, not UTF-16 units: 1024 emoji are within the cap, and are set', async () => {
    const { id, token } = await user('capped-emma', 'emma old password 1');
    const emoji = `1${'\u{1F511}'.repeat(1023)}`;
    expect(emoji.length).toBe(2047);
    const res = await call(service.app, 'post', `${BASE}/reset-password`, { token, body: { currentPassword: 'emma old password 1', newPassword: emoji } });
    expect(res.status).toBe(204);
    const check = await call(service.app, 'post', `${BASE}/validate-password`, { token: await issuer.signAfterChange(id), body: { password: emoji } });
    expect(check.body).toEqual({ valid: true });
  });

  it('is a maxLength violation on reset-password-with-code, and the code still works afterwards', async () => {
    const { email } = await user('capped-cody', 'cody old password 1');
    const seen = smtp.received.length;
    expect((await call(service.app, 'post', `${BASE}/forgot-password`, { body: { email, method: 'code' } })).status).toBe(202);
    const code = /\b(\d{8})\b/.exec((await smtp.next(email, { after: seen })).text)?.[1] ?? '';
    const { res, ms, hashes } = await measured(() => call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { email, code, newPassword: OVER_CAP } }));
    expectCapViolation(res, [CAP_VIOLATION]);
    expect({ ms: ms < PROMISED_MS, hashes }).toEqual({ ms: true, hashes: 0 });
    expect((await call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { email, code, newPassword: 'cody new password 2' } })).status).toBe(204);
  });

  it("is a maxLength violation on the admin API's reset-password and user creation", async () => {
    const { id } = await user('capped-ada', 'ada old password 1');
    const before = await storedHash('capped-ada');
    const token = await admin();
    const reset = await measured(() => call(service.app, 'put', `${USERS}/${id}/reset-password`, { token, body: { type: 'password', value: OVER_CAP, temporary: false } }));
    expectCapViolation(reset.res, [CAP_VIOLATION]);
    expect({ ms: reset.ms < PROMISED_MS, hashes: reset.hashes }).toEqual({ ms: true, hashes: 0 });
    await expect(storedHash('capped-ada')).resolves.toBe(before);

    const create = await measured(() =>
      call(service.app, 'post', USERS, { token, body: { username: 'capped-new', enabled: true, credentials: [{ type: 'password', value: OVER_CAP }] } }),
    );
    expectCapViolation(create.res, [CAP_VIOLATION]);
    expect({ ms: create.ms < PROMISED_MS, hashes: create.hashes }).toEqual({ ms: true, hashes: 0 });
    await expect(service.resources.accounts.findByUsername('alpha', 'capped-new')).resolves.toBeNull();
  });

  it("is a maxLength violation on the hosted page of a password-change ticket, the link left usable", async () => {
    const { id } = await user('capped-tess', 'tess old password 1');
    const ticket = await call(service.app, 'post', `${USERS}/${id}/password-change-ticket`, { token: await admin(), body: {} });
    expect(ticket.status).toBe(201);
    const link = (ticket.body as { ticket: string }).ticket.slice(PUBLIC_URL.length);
    const opened = await request(service.app).get(link);
    const cookie = String((opened.headers['set-cookie'] as unknown as string[])[0]).split(';')[0] ?? '';
    const form = await request(service.app).get(`${BASE}/reset`).set('Cookie', cookie);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';

    const { res, ms, hashes } = await measured(async () => request(service.app).post(`${BASE}/reset`).set('Cookie', cookie).type('form').send({ csrf, password: OVER_CAP, confirm: OVER_CAP }));
    expect(res.status).toBe(400);
    expect(res.text).toContain('The password must have at most 1024 characters.');
    expect({ ms: ms < PROMISED_MS, hashes }).toEqual({ ms: true, hashes: 0 });

    const done = await request(service.app).post(`${BASE}/reset`).set('Cookie', cookie).type('form').send({ csrf, password: 'tess new password 2', confirm: 'tess new password 2' });
    expect(done.status).toBe(200);
  });
});

describe('a body of 1 MB', () => {
  it.each([
    ['reset-password', 'post', `${BASE}/reset-password`, true],
    ['reset-password-with-code', 'post', `${BASE}/reset-password-with-code`, false],
    ['admin reset-password', 'put', `${USERS}/someone/reset-password`, true],
    ['admin user creation', 'post', USERS, true],
  ] as const)('is still 413 on %s, without a hash', async (_name, method, path, bearer) => {
    const { id, token } = await user(`big-${method}-${path.length}`, 'big old password 1');
    const sent = bearer ? (path.startsWith('/admin') ? await admin() : token) : undefined;
    const body = JSON.stringify({ newPassword: 'z'.repeat(ONE_MB), value: 'z', id });
    const { res, hashes } = await measured(() => call(service.app, method, path, { ...(sent === undefined ? {} : { token: sent }), body }));
    expectError(res, 413, 'invalid_request');
    expect(hashes).toBe(0);
  });

  it('is still 413 on the hosted page', async () => {
    const res = await request(service.app).post(`${BASE}/reset`).type('form').send(`password=${'z'.repeat(ONE_MB)}`);
    expect(res.status).toBe(413);
  });
});
