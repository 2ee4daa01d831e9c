import request from 'supertest';
import type { Response } from 'supertest';
import { createPasswordResources, OptionsError } from '../../src/index';
import { call, expectError } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { linkIn, TestSmtpServer } from '../helpers/smtp';

/**
 * Redirects after a reset are matched as the browser will follow them: the
 * client allows only `https://app.example/cb/*`, and nothing that leaves that
 * prefix once normalised gets in, by any of the spellings below.
 */
const BASE = '/realms/alpha/password-resources';
const USERS = '/admin/realms/alpha/users';
const PUBLIC_URL = 'https://accounts.example';
let issuer: TestIssuer;
let service: TestService;
let smtp: TestSmtpServer;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  smtp = await TestSmtpServer.start();
  service = await startTestService(
    'redirects',
    {
      publicUrl: PUBLIC_URL,
      passwordPolicy: 'length(12)',
      realms: {
        alpha: {
          issuer: issuer.issuerOf('alpha'),
          bruteForce: RELAXED_BRUTE_FORCE,
          smtp: smtp.settings(),
          clients: { spa: { redirectUris: ['https://app.example/cb/*'] } },
        },
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

const admin = (): Promise<string> => issuer.sign({ sub: 'admin-1', azp: 'admin-cli', resource_access: { 'realm-management': { roles: ['manage-users'] } } });

let users = 0;
async function newUser(): Promise<{ id: string; email: string; username: string }> {
  users += 1;
  const username = `rita${users}`;
  const email = `${username}@example.com`;
  const created = await service.resources.accounts.createUser({ realm: 'alpha', username, email, password: `${username} old password` });
  return { id: created.id, email, username };
}

const ticket = async (id: string, resultUrl: string): Promise<Response> =>
  call(service.app, 'post', `${USERS}/${id}/password-change-ticket`, { token: await admin(), body: { result_url: resultUrl } });

/** Follow a reset link as a browser does, set a new password, and return where the page sends the user. */
async function completeReset(link: string, password: string): Promise<string | undefined> {
  const path = link.slice(PUBLIC_URL.length);
  const first = await request(service.app).get(path);
  const cookie = String((first.headers['set-cookie'] as unknown as string[])[0]).split(';')[0] ?? '';
  const page = await request(service.app).get(`${BASE}/reset`).set('Cookie', cookie);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const done = await request(service.app).post(`${BASE}/reset`).set('Cookie', cookie).type('form').send({ csrf, password, confirm: password });
  expect(done.status).toBe(303);
  return done.headers.location;
}

describe('a password-change ticket', () => {
  it.each([
    ['dot segments out of the prefix', 'https://app.example/cb/../admin'],
    ['encoded dot segments', 'https://app.example/cb/%2e%2e/admin'],
    ['encoded dot segments in mixed case', 'https://app.example/cb/%2E%2e/admin'],
    ['half-encoded dot segments', 'https://app.example/cb/.%2e/admin'],
    ['another port', 'https://app.example:8443/cb/x'],
    ['another scheme', 'http://app.example/cb/x'],
    ['a host with a trailing dot', 'https://app.example./cb/x'],
    ['a host that only starts like the allowed one', 'https://app.example.evil.example/cb/x'],
  ])('refuses a result_url with %s: 400, and no link', async (_name, resultUrl) => {
    const { id } = await newUser();
    const res = await ticket(id, resultUrl);
    expectError(res, 400, 'invalid_request', 'error');
    expect((res.body as { error_description: string }).error_description).toContain('is not among the realm\'s clients\' redirect URIs');
  });

  it.each([
    ['user-info', 'https://user@app.example/cb/x', 'carries user-info'],
    ['user-info that spells the allowed host', 'https://app.example@evil.example/cb/x', 'carries user-info'],
    ['an empty user-info', 'https://@app.example/cb/x', 'carries user-info'],
    ['a backslash before the host', 'https://app.example\\@evil.example/cb/x', 'backslash'],
    ['backslash dot segments', 'https://app.example/cb\\..\\admin', 'backslash'],
    ['a fragment', 'https://app.example/cb/x#top', 'fragment'],
    ['a tab inside', 'https://app.example/cb/\tx', 'control characters'],
  ])('refuses a result_url with %s outright, saying why', async (_name, resultUrl, why) => {
    const { id } = await newUser();
    const res = await ticket(id, resultUrl);
    expectError(res, 400, 'invalid_request', 'error');
    expect((res.body as { error_description: string }).error_description).toContain(why);
  });

  it('redirects after the reset to exactly the normalised URL that was matched', async () => {
    const { id } = await newUser();
    const res = await ticket(id, 'HTTPS://App.Example:443/cb/x/./y/../%7Euser?k=v');
    expect(res.status).toBe(201);
    const location = await completeReset((res.body as { ticket: string }).ticket, 'a new password 1');
    expect(location).toBe('https://app.example/cb/x/~user?k=v&success=true');
  });
});

describe('execute-actions-email', () => {
  it('refuses a redirect_uri that leaves the client\'s prefix through dot segments', async () => {
    const { id } = await newUser();
    const query = `?client_id=spa&redirect_uri=${encodeURIComponent('https://app.example/cb/%2e%2e/admin')}`;
    const res = await call(service.app, 'put', `${USERS}/${id}/execute-actions-email${query}`, { token: await admin(), body: ['UPDATE_PASSWORD'] });
    expectError(res, 400, 'invalid_request', 'error');
  });

  it('sends the user after the reset to the normalised redirect_uri', async () => {
    const { id, email } = await newUser();
    const seen = smtp.received.length;
    const query = `?client_id=spa&redirect_uri=${encodeURIComponent('https://app.example:443/cb/./done')}`;
    const res = await call(service.app, 'put', `${USERS}/${id}/execute-actions-email${query}`, { token: await admin(), body: ['UPDATE_PASSWORD'] });
    expect(res.status).toBe(204);
    const location = await completeReset(linkIn(await smtp.next(email, { after: seen })), 'a new password 2');
    expect(location).toBe('https://app.example/cb/done?success=true');
  });
});

describe('forgot-password', () => {
  it.each([
    ['dot segments', 'https://app.example/cb/../admin'],
    ['user-info', 'https://app.example@evil.example/cb/'],
    ['a backslash', 'https://app.example\\evil.example/cb/'],
  ])('refuses a redirect_uri with %s, without a bearer challenge (no token here)', async (_name, redirectUri) => {
    const { username } = await newUser();
    const res = await call(service.app, 'post', `${BASE}/forgot-password`, { body: { username, client_id: 'spa', redirect_uri: redirectUri } });
    expectError(res, 400, 'invalid_request');
  });

  it('sends the user after the reset to the normalised redirect_uri', async () => {
    const { username, email } = await newUser();
    const seen = smtp.received.length;
    const res = await call(service.app, 'post', `${BASE}/forgot-password`, { body: { username, client_id: 'spa', redirect_uri: 'https://APP.EXAMPLE/cb/a/../b' } });
    expect(res.status).toBe(202);
    const location = await completeReset(linkIn(await smtp.next(email, { after: seen })), 'a new password 3');
    expect(location).toBe('https://app.example/cb/b?success=true');
  });
});

describe('the clients\' redirect URIs in the options', () => {
  it.each([
    ['user-info', 'https://user@app.example/cb/*'],
    ['a fragment', 'https://app.example/cb#x'],
    ['a backslash', 'https://app.example\\cb/*'],
  ])('refuse an entry with %s at start-up', (_name, entry) => {
    expect(() =>
      createPasswordResources({ mongodbUri: service.uri, realms: { alpha: { issuer: issuer.issuerOf('alpha'), clients: { spa: { redirectUris: [entry] } } } } }),
    ).toThrow(OptionsError);
  });
});
