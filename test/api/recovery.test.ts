import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import request from 'supertest';
import type { Response } from 'supertest';
import { call, expectError } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { linkIn, TestSmtpServer } from '../helpers/smtp';

const BASE = '/realms/alpha/password-resources';
const USERS = '/admin/realms/alpha/users';
const PUBLIC_URL = 'https://accounts.example';
let service: TestService;
let issuer: TestIssuer;
let smtp: TestSmtpServer;
let connection: Connection;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  smtp = await TestSmtpServer.start();
  service = await startTestService(
    'recovery',
    {
      publicUrl: PUBLIC_URL,
      passwordPolicy: 'length(12) and digits(1) and notUsername and passwordHistory(2)',
      realms: {
        alpha: {
          issuer: issuer.issuerOf('alpha'),
          bruteForce: RELAXED_BRUTE_FORCE,
          smtp: smtp.settings(),
          clients: { 'account-console': { redirectUris: ['https://app.example/*'] } },
          recovery: { perAddress: { limit: 3, windowSeconds: 900 }, perIp: { limit: 1000, windowSeconds: 900 } },
        },
        beta: { issuer: issuer.issuerOf('beta'), bruteForce: RELAXED_BRUTE_FORCE },
      },
    },
    issuer,
  );
  connection = await mongoose.createConnection(service.uri, { bufferCommands: false }).asPromise();
});
afterAll(async () => {
  await connection.close();
  await service.close();
  await smtp.stop();
  await issuer.stop();
});

const admin = (roles = ['manage-users', 'manage-realm']): Promise<string> =>
  issuer.sign({ sub: 'admin-1', azp: 'admin-cli', resource_access: { 'realm-management': { roles } } });

async function user(username: string, password: string, extra: { locale?: string; email?: string } = {}): Promise<{ id: string; email: string }> {
  const email = extra.email ?? `${username}@example.com`;
  const created = await service.resources.accounts.createUser({ realm: 'alpha', username, email, password, locale: extra.locale });
  return { id: created.id, email };
}

/** The path and query of a link, for requests to the app under test. */
const pathOf = (link: string): string => link.slice(PUBLIC_URL.length);

/** A browser's visit: GET the link, follow the 303 with the cookie it set, return the form page and the cookie. */
async function openLink(link: string): Promise<{ page: Response; cookie: string; csrf: string }> {
  const first = await request(service.app).get(pathOf(link));
  expect(first.status).toBe(303);
  expect(first.headers.location).toBe(`${BASE}/reset`);
  const cookie = String((first.headers['set-cookie'] as unknown as string[])[0]).split(';')[0] ?? '';
  const page = await request(service.app).get(`${BASE}/reset`).set('Cookie', cookie);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  return { page, cookie, csrf };
}

async function submit(cookie: string, fields: Record<string, string>): Promise<Response> {
  const res = await request(service.app).post(`${BASE}/reset`).set('Cookie', cookie).type('form').send(fields);
  return res;
}

async function validates(id: string, password: string): Promise<boolean> {
  const res = await call(service.app, 'post', `${BASE}/validate-password`, { token: await issuer.signAfterChange(id), body: { password } });
  return (res.body as { valid: boolean }).valid;
}

async function sendLink(id: string, query = ''): Promise<Response> {
  return call(service.app, 'put', `${USERS}/${id}/execute-actions-email${query}`, { token: await admin(), body: ['UPDATE_PASSWORD'] });
}

describe("admin's execute-actions-email and the hosted page", () => {
  it('mails a link; the page shows the rules, refuses a bad password with every violation, then changes it', async () => {
    const { id, email } = await user('anja', 'anja old password 1');
    const before = await issuer.sign({ sub: id, iat: Math.floor(Date.now() / 1000) - 5 });
    const seen = smtp.received.length;
    expect((await sendLink(id)).status).toBe(204);
    const mail = await smtp.next(email, { after: seen });
    expect(mail.subject).toBe('Reset your password for alpha');
    expect(mail.from).toBe('no-reply@example.com');
    const link = linkIn(mail);
    expect(link.startsWith(`${PUBLIC_URL}${BASE}/reset?key=`)).toBe(true);

    // Opening the link twice (a mail scanner, then the user) does not use it up.
    await openLink(link);
    const { page, cookie, csrf } = await openLink(link);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('The password must have at least 12 characters.');
    expect(page.text).not.toContain('<script');
    expect(page.text).not.toContain('key=');

    const weak = await submit(cookie, { csrf, password: 'anja', confirm: 'anja' });
    expect(weak.status).toBe(400);
    for (const message of ['at least 12 characters', 'at least 1 digit', 'must not be the username']) expect(weak.text).toContain(message);
    const differ = await submit(cookie, { csrf, password: 'anja new password 2', confirm: 'anja new password 3' });
    expect(differ.text).toContain('The two passwords differ');

    const seenBefore = smtp.received.length;
    const done = await submit(cookie, { csrf, password: 'anja new password 2', confirm: 'anja new password 2' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('Your password was changed');
    expect(String((done.headers['set-cookie'] as unknown as string[])[0])).toMatch(/Max-Age=0/);
    expect(await validates(id, 'anja new password 2')).toBe(true);
    expect(await validates(id, 'anja old password 1')).toBe(false);
    expectError(await call(service.app, 'post', `${BASE}/validate-password`, { token: before, body: { password: 'anja new password 2' } }), 401, 'invalid_token', 'error');

    const notice = await smtp.next(email, { after: seenBefore });
    expect(notice.subject).toBe('Your password for alpha was changed');
    expect(notice.text).not.toContain('anja new password 2');

    // Used once, never again.
    const again = await request(service.app).get(pathOf(link));
    expect(again.status).toBe(410);
    expect(again.text).toContain('This link was already used');
  });

  it('refuses a tampered key, an expired link, and an older link once a newer one was sent, each with its own page', async () => {
    const { id, email } = await user('bruno', 'bruno old password 1');
    let seen = smtp.received.length;
    await sendLink(id);
    const older = linkIn(await smtp.next(email, { after: seen }));
    seen = smtp.received.length;
    await sendLink(id, '?lifespan=600');
    const newer = linkIn(await smtp.next(email, { after: seen }));

    const superseded = await request(service.app).get(pathOf(older));
    expect(superseded.status).toBe(400);
    expect(superseded.text).toContain('a newer one was sent since');
    const tampered = await request(service.app).get(`${pathOf(newer).slice(0, -2)}xy`);
    expect(tampered.status).toBe(400);
    expect(tampered.text).toContain('This link does not work');

    await connection.collection('action_tokens').updateOne({ userId: id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await request(service.app).get(pathOf(newer));
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('This link has expired');
    expect(expired.headers['content-security-policy']).toMatch(/^default-src 'none'/);
  });

  it('ends a link when the password changes another way', async () => {
    const { id, email } = await user('carla', 'carla old password 1');
    const seen = smtp.received.length;
    await sendLink(id);
    const link = linkIn(await smtp.next(email, { after: seen }));
    const beforeChange = smtp.received.length;
    const change = await call(service.app, 'post', `${BASE}/reset-password`, { token: await issuer.signAfterChange(id), body: { currentPassword: 'carla old password 1', newPassword: 'carla new password 2' } });
    expect(change.status).toBe(204);
    // The user's own change is told too.
    expect((await smtp.next(email, { after: beforeChange })).subject).toBe('Your password for alpha was changed');
    const res = await request(service.app).get(pathOf(link));
    expect(res.status).toBe(410);
    expect(res.text).toContain('The password was changed after this link was sent');
  });

  it('refuses a form not sent from the page (CSRF)', async () => {
    const { id, email } = await user('dario', 'dario old password 1');
    const seen = smtp.received.length;
    await sendLink(id);
    const { cookie } = await openLink(linkIn(await smtp.next(email, { after: seen })));
    const forged = await submit(cookie, { csrf: 'forged', password: 'dario new password 2', confirm: 'dario new password 2' });
    expect(forged.status).toBe(403);
    expect(await validates(id, 'dario old password 1')).toBe(true);
    const noCookie = await submit('', { password: 'dario new password 2', confirm: 'dario new password 2' });
    expect(noCookie.status).toBe(400);
  });

  it('returns to an allowed redirect_uri after a success, and refuses a foreign one up front', async () => {
    const { id, email } = await user('elena', 'elena old password 1');
    const foreign = await sendLink(id, `?client_id=account-console&redirect_uri=${encodeURIComponent('https://evil.example/')}`);
    expectError(foreign, 400, 'invalid_request', 'error');
    expect((foreign.body as { error_description: string }).error_description).toContain('https://evil.example/');
    expectError(await sendLink(id, `?redirect_uri=${encodeURIComponent('https://app.example/done')}`), 400, 'invalid_request', 'error');
    const seen = smtp.received.length;
    expect((await sendLink(id, `?client_id=account-console&redirect_uri=${encodeURIComponent('https://app.example/done')}`)).status).toBe(204);
    const { cookie, csrf } = await openLink(linkIn(await smtp.next(email, { after: seen })));
    const done = await submit(cookie, { csrf, password: 'elena new password 2', confirm: 'elena new password 2' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('https://app.example/done?success=true');
  });

  it('answers 400 for a realm without SMTP, a user without email, an action it cannot send', async () => {
    const beta = await service.resources.accounts.createUser({ realm: 'beta', username: 'fritz', email: 'fritz@example.com', password: 'fritz password 1' });
    const token = await issuer.sign({ sub: 'admin-1', resource_access: { 'realm-management': { roles: ['manage-users'] } } }, { realm: 'beta' });
    const noSmtp = await call(service.app, 'put', `/admin/realms/beta/users/${beta.id}/execute-actions-email`, { token, body: ['UPDATE_PASSWORD'] });
    expectError(noSmtp, 400, 'invalid_request', 'error');
    expect((noSmtp.body as { error_description: string }).error_description).toBe('Realm "beta" has no SMTP settings, so no mail can be sent; set realms.beta.smtp.');
    const noEmail = await service.resources.accounts.createUser({ realm: 'alpha', username: 'gerd', password: 'gerd password 12' });
    expectError(await sendLink(noEmail.id), 400, 'invalid_request', 'error');
    const { id } = await user('hilde', 'hilde password 12');
    const verify = await call(service.app, 'put', `${USERS}/${id}/execute-actions-email`, { token: await admin(), body: ['VERIFY_EMAIL'] });
    expectError(verify, 400, 'invalid_request', 'error');
    expectError(await call(service.app, 'put', `${USERS}/nobody/execute-actions-email`, { token: await admin(), body: ['UPDATE_PASSWORD'] }), 404, 'user_not_found');
  });

  it("answers 503 with the SMTP server's own words when it refuses, and loses nothing silently", async () => {
    const { id } = await user('ines', 'ines password 123');
    smtp.refuse = 'Mailbox full: ines@example.com';
    try {
      const res = await sendLink(id);
      expectError(res, 503, 'temporarily_unavailable');
      expect((res.body as { error_description: string }).error_description).toContain('Mailbox full: ines@example.com');
      // Counted, for the operators' alerts.
      expect(await service.resources.metrics.getSingleMetricAsString('password_resources_emails_total')).toMatch(/password_resources_emails_total\{kind="reset-link",outcome="failed"\} [1-9]/);
      const tested = await call(service.app, 'post', '/admin/realms/alpha/testSMTPConnection', { token: await admin(), body: { to: 'ops@example.com' } });
      expectError(tested, 503, 'temporarily_unavailable');
      expect((tested.body as { error_description: string }).error_description).toContain('Mailbox full');
    } finally {
      smtp.refuse = undefined;
    }
  });
});

describe('testSMTPConnection', () => {
  it('sends a test mail over the realm\'s settings or the ones given, and needs manage-realm', async () => {
    const seen = smtp.received.length;
    expect((await call(service.app, 'post', '/admin/realms/alpha/testSMTPConnection', { token: await admin(), body: { to: 'ops@example.com' } })).status).toBe(204);
    expect((await smtp.next('ops@example.com', { after: seen })).subject).toBe('[alpha] Test message');
    const unreachable = await call(service.app, 'post', '/admin/realms/alpha/testSMTPConnection', { token: await admin(), body: { host: '127.0.0.1', port: '1', from: 'x@example.com', to: 'ops@example.com' } });
    expectError(unreachable, 503, 'temporarily_unavailable');
    expect((unreachable.body as { error_description: string }).error_description).toMatch(/^The SMTP server at 127\.0\.0\.1:1 failed: .*ECONNREFUSED/);
    const forbidden = await call(service.app, 'post', '/admin/realms/alpha/testSMTPConnection', { token: await admin(['manage-users']), body: { to: 'ops@example.com' } });
    expectError(forbidden, 403, 'insufficient_scope', 'error');
  });
});

describe('password-change tickets', () => {
  it('makes a link without mailing it; the page can include the email in the redirect', async () => {
    const { id, email } = await user('jana', 'jana old password 1');
    const seen = smtp.received.length;
    const res = await call(service.app, 'post', `${USERS}/${id}/password-change-ticket`, {
      token: await admin(),
      body: { ttl_sec: 3600, result_url: 'https://app.example/after', include_email_in_redirect: true, mark_email_as_verified: true },
    });
    expect(res.status).toBe(201);
    const { ticket } = res.body as { ticket: string };
    expect(smtp.to(email).length).toBe(smtp.received.slice(0, seen).filter((mail) => mail.to.includes(email)).length);
    const { cookie, csrf } = await openLink(ticket);
    const done = await submit(cookie, { csrf, password: 'jana new password 2', confirm: 'jana new password 2' });
    expect(done.headers.location).toBe(`https://app.example/after?success=true&email=${encodeURIComponent(email)}`);
    expect((await service.resources.accounts.findByUsername('alpha', 'jana'))?.emailVerified).toBe(true);
    expectError(await call(service.app, 'post', `${USERS}/${id}/password-change-ticket`, { token: await admin(), body: { result_url: 'https://evil.example/' } }), 400, 'invalid_request', 'error');
  });
});

describe('forgot-password', () => {
  it('answers the same, body and status, whether or not the account exists; only a real one gets mail', async () => {
    const { email } = await user('karl', 'karl old password 1');
    const seen = smtp.received.length;
    const known = await call(service.app, 'post', `${BASE}/forgot-password`, { body: { email } });
    const unknown = await call(service.app, 'post', `${BASE}/forgot-password`, { body: { email: 'nobody-here@example.com' } });
    const byName = await call(service.app, 'post', `${BASE}/forgot-password`, { body: { username: 'no-such-user' } });
    for (const res of [known, unknown, byName]) {
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ message: 'If an account matches, a message is on its way to its email address.' });
      expect(Object.keys(res.headers).sort()).toEqual(Object.keys(known.headers).sort());
    }
    expect(linkIn(await smtp.next(email, { after: seen }))).toMatch(/reset\?key=/);
    expect(smtp.to('nobody-here@example.com')).toEqual([]);
  });

  it('limits requests per address, for known and unknown addresses alike', async () => {
    const { email } = await user('lena', 'lena old password 1');
    for (const address of [email, 'ghost@example.com']) {
      for (let i = 0; i < 3; i++) expect((await call(service.app, 'post', `${BASE}/forgot-password`, { body: { email: address } })).status).toBe(202);
      const limited = await call(service.app, 'post', `${BASE}/forgot-password`, { body: { email: address } });
      expectError(limited, 429, 'too_many_failures');
    }
  });

  it('mails a code in the user\'s language instead, redeemed once, burnt after five wrong tries', async () => {
    const { id, email } = await user('moritz', 'moritz old password 1', { locale: 'de' });
    let seen = smtp.received.length;
    await call(service.app, 'post', `${BASE}/forgot-password`, { body: { username: 'moritz', method: 'code' } });
    let mail = await smtp.next(email, { after: seen });
    expect(mail.subject).toBe('Ihr Code zum Zurücksetzen des Passworts für alpha');
    let code = /\b(\d{8})\b/.exec(mail.text)?.[1] ?? '';
    const wrong = await call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { username: 'moritz', code: '00000000', newPassword: 'moritz new password 2' } });
    expectError(wrong, 400, 'invalid_request');
    const unknownUser = await call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { username: 'nobody', code, newPassword: 'moritz new password 2' } });
    expect(unknownUser.body).toEqual(wrong.body);
    const weak = await call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { username: 'moritz', code, newPassword: 'short' } });
    expectError(weak, 400, 'invalid_password');
    expect((await call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { email, code, newPassword: 'moritz new password 2' } })).status).toBe(204);
    expect(await validates(id, 'moritz new password 2')).toBe(true);
    expectError(await call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { email, code, newPassword: 'moritz new password 3' } }), 400, 'invalid_request');

    seen = smtp.received.length;
    await call(service.app, 'post', `${BASE}/forgot-password`, { body: { username: 'moritz', method: 'code' } });
    mail = await smtp.next(email, { after: seen });
    code = /\b(\d{8})\b/.exec(mail.text)?.[1] ?? '';
    const wrongCode = code === '11111111' ? '22222222' : '11111111';
    for (let i = 0; i < 5; i++) await call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { email, code: wrongCode, newPassword: 'moritz new password 4' } });
    expectError(await call(service.app, 'post', `${BASE}/reset-password-with-code`, { body: { email, code, newPassword: 'moritz new password 4' } }), 400, 'invalid_request');
    expect(await validates(id, 'moritz new password 2')).toBe(true);
  });

  it('refuses a body naming both or neither of username and email', async () => {
    expectError(await call(service.app, 'post', `${BASE}/forgot-password`, { body: { username: 'a', email: 'a@example.com' } }), 400, 'invalid_request');
    expectError(await call(service.app, 'post', `${BASE}/forgot-password`, { body: {} }), 400, 'invalid_request');
  });
});

describe('notifications', () => {
  it('tells the user when an administrator sets their password, never saying what it is', async () => {
    const { id, email } = await user('nora', 'nora old password 1');
    const seen = smtp.received.length;
    await call(service.app, 'put', `${USERS}/${id}/reset-password`, { token: await admin(), body: { value: 'nora temporary pw 9', temporary: true } });
    const mail = await smtp.next(email, { after: seen });
    expect(mail.subject).toBe('An administrator set a new password for alpha');
    expect(mail.text).toContain('You will be asked to choose your own');
    expect(`${mail.text}${mail.html}`).not.toContain('nora temporary pw 9');
  });
});
