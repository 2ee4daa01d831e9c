import { join } from 'node:path';
import { call, expectError } from '../helpers/api';
import { testDatabaseUri } from '../helpers/db';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { runCli } from '../helpers/spawn';

/** The export and its users' passwords: made by test/fixtures/make-credential-vectors.py with Keycloak's own formats. */
const EXPORT = join(__dirname, '..', 'fixtures', 'keycloak-realm-export.json');
const VALIDATE = '/realms/acme/password-resources/validate-password';
const USERS = {
  alice: { id: 'a1b2c3d4-0001-4e5f-8a9b-000000000001', password: 'alice in keycloak land', algorithm: 'pbkdf2-sha256' },
  bob: { id: 'a1b2c3d4-0002-4e5f-8a9b-000000000002', password: "bob's temporary pass", algorithm: 'pbkdf2-sha512' },
} as const;

let issuer: TestIssuer;
let service: TestService;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const uri = testDatabaseUri('migration');
  const imported = await runCli(['import-keycloak', EXPORT], { MONGODB_URI: uri, REALMS: 'acme', OIDC_ISSUER_BASE_URL: issuer.baseUrl, BCRYPT_COST: '10' });
  expect(imported.code).toBe(0);
  service = await startTestService('migration', { mongodbUri: uri, realms: { acme: { issuer: issuer.issuerOf('acme'), bruteForce: RELAXED_BRUTE_FORCE } } }, issuer);
});
afterAll(async () => {
  await service.close();
  await issuer.stop();
});

describe('users taken over from a Keycloak export', () => {
  it.each(Object.entries(USERS))('%s validates with the password they had in Keycloak, and is moved to argon2id on that first success', async (username, user) => {
    const before = await service.resources.accounts.findByUsername('acme', username);
    expect(before?.credential?.algorithm).toBe(user.algorithm);
    const token = await issuer.sign({ sub: user.id }, { realm: 'acme' });
    const wrong = await call(service.app, 'post', VALIDATE, { token, body: { password: `${user.password}!` } });
    expect(wrong.body).toEqual({ valid: false });
    const right = await call(service.app, 'post', VALIDATE, { token, body: { password: user.password } });
    expect((right.body as { valid: boolean }).valid).toBe(true);
    const after = await service.resources.accounts.findByUsername('acme', username);
    expect(after?.credential?.hash).toMatch(/^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
    expect(after?.passwordChangedAt).toBeUndefined(); // an upgrade is not a change: the token still works
    const again = await call(service.app, 'post', VALIDATE, { token, body: { password: user.password } });
    expect((again.body as { valid: boolean }).valid).toBe(true);
  });

  it("keeps Keycloak's required actions", async () => {
    const token = await issuer.sign({ sub: USERS.bob.id }, { realm: 'acme' });
    const res = await call(service.app, 'post', VALIDATE, { token, body: { password: USERS.bob.password } });
    expect(res.body).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
  });

  it('keeps a disabled Keycloak user disabled', async () => {
    const carol = await service.resources.accounts.findByUsername('acme', 'carol');
    expect(carol?.enabled).toBe(false);
    const token = await issuer.sign({ sub: carol?.id ?? '' }, { realm: 'acme' });
    expectError(await call(service.app, 'post', VALIDATE, { token, body: { password: 'carol uses argon2id' } }), 401, 'invalid_token', 'error');
  });
});
