import express from 'express';
import type { ErrorRequestHandler, Express } from 'express';
import request from 'supertest';
import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

let service: TestService;
let alice: { id: string; token: string };
const PASSWORD = 'correct horse battery staple';

/** The host's error handler: answers its own way, so a test sees whose handler ran. */
const hostErrorHandler: ErrorRequestHandler = (_error, _req, res, _next) => {
  res.status(418).json({ host: 'error handler' });
};

function hostApp(mount: (app: Express) => void): Express {
  const app = express();
  app.get('/hello', (_req, res) => {
    res.json({ host: 'hello' });
  });
  mount(app);
  app.post('/echo', (req, res) => {
    res.json({ host: 'echo', body: req.body as unknown });
  });
  app.get('/boom', () => {
    throw new Error('host failure');
  });
  return app;
}

const setups: [string, () => Express, string][] = [
  ['standalone', () => service.app, ''],
  ['mounted at /', () => hostApp((app) => app.use(service.resources.router)), ''],
  ['under /gateway', () => hostApp((app) => app.use('/gateway', service.resources.router)), '/gateway'],
  [
    "behind the host's express.json()",
    () =>
      hostApp((app) => {
        app.use(express.json());
        app.use(service.resources.router);
      }),
    '',
  ],
  [
    "beside the host's own error handler",
    () => {
      const app = hostApp((a) => a.use(service.resources.router));
      app.use(hostErrorHandler);
      return app;
    },
    '',
  ],
];

beforeAll(async () => {
  service = await startTestService('mount');
  alice = await service.createUser('alice', PASSWORD);
});
afterAll(async () => service.close());

describe.each(setups)('the router %s', (_name, build, prefix) => {
  let app: Express;
  beforeAll(() => {
    app = build();
  });
  const validate = '/realms/alpha/password-resources/validate-password';

  it('validates the right password', async () => {
    const res = await call(app, 'post', validate, { prefix, token: alice.token, body: { password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: true });
  });

  it('answers valid: false for a wrong password', async () => {
    const res = await call(app, 'post', validate, { prefix, token: alice.token, body: { password: 'wrong' } });
    expect(res.body).toEqual({ valid: false });
  });

  it('answers 401 with the bare challenge without a token', async () => {
    expectError(await call(app, 'post', validate, { prefix, body: { password: PASSWORD } }), 401, 'invalid_token', 'bare');
  });

  it('answers 401 invalid_token for a bad token, in its own error model', async () => {
    expectError(await call(app, 'post', validate, { prefix, token: 'not.a.jwt', body: { password: PASSWORD } }), 401, 'invalid_token', 'error');
  });

  it('answers 400 invalid_request for an unknown field', async () => {
    const res = await call(app, 'post', validate, { prefix, token: alice.token, body: { password: PASSWORD, admin: true } });
    expectError(res, 400, 'invalid_request', 'error');
  });

  it('answers 401 invalid_current_password for a wrong current password', async () => {
    const res = await call(app, 'post', '/realms/alpha/password-resources/reset-password', {
      prefix,
      token: alice.token,
      body: { currentPassword: 'wrong', newPassword: 'another long passphrase' },
    });
    expectError(res, 401, 'invalid_current_password', 'bare');
  });

  it('answers 404 realm_not_found for an unknown realm', async () => {
    const res = await call(app, 'post', '/realms/nope/password-resources/validate-password', { prefix, token: alice.token, body: { password: PASSWORD } });
    expectError(res, 404, 'realm_not_found');
  });
});

describe.each(setups.slice(1))("the host's own routes, with the router %s", (_name, build) => {
  let app: Express;
  beforeAll(() => {
    app = build();
  });

  it('still answer, untouched by the router (no request id, no no-store)', async () => {
    const res = await request(app).get('/hello');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ host: 'hello' });
    expect(res.headers['x-request-id']).toBeUndefined();
    expect(res.headers['cache-control']).toBeUndefined();
  });

  it("still reach routes registered after the router, with the host's body handling", async () => {
    const res = await request(app).post('/echo').send({ a: 1 });
    expect(res.status).toBe(200);
    expect((res.body as { host: string }).host).toBe('echo');
  });

  it.each([
    ['/realms/alpha/password-resources/not-a-route'],
    ['/realms/nope/password-resources/not-a-route'],
    ['/admin/realms/alpha/not-a-route'],
    ['/admin/realms/alpha/users/someone/not-a-route'],
  ])('leave unknown paths under the router\'s prefixes (%s) to the host, untouched and without a token check', async (path) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/text\/html/); // Express's own 404, not ours
    expect(res.headers['x-request-id']).toBeUndefined();
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});

describe('the standalone app', () => {
  it.each([['/realms/alpha/password-resources/not-a-route'], ['/admin/realms/alpha/not-a-route']])('answers an unknown path under the router\'s prefixes (%s) with its 404 not_found, asking for no token', async (path) => {
    expectError(await call(service.app, 'get', path), 404, 'not_found');
  });
});

describe("the host's error handler", () => {
  it("still handles the host's errors, and never sees the router's", async () => {
    const app = setups[4]?.[1]();
    if (!app) throw new Error('setup missing');
    const host = await request(app).get('/boom');
    expect(host.status).toBe(418);
    const ours = await call(app, 'post', '/realms/alpha/password-resources/validate-password', { body: { password: 'x' } });
    expectError(ours, 401, 'invalid_token', 'bare');
  });
});
