import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { generatedCredential, pbkdf2Sha256, writeDirectoryExport, writeSingleFileExport } from '../helpers/keycloak-export';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { runCli } from '../helpers/spawn';

/**
 * Users imported from generated Keycloak exports, then used through the
 * service: their Keycloak password history at their first change, their
 * attributes through the admin API.
 */
const PASSWORDS = ['first password 1', 'second password 2', 'third password 3'] as const;
const DAY = 86_400_000;
const CREATED = Date.UTC(2025, 0, 1);
let issuer: TestIssuer;
let service: TestService;
let scratch: string;

/** Hilde: the third password now, the first two in Keycloak's history, listed newest first as Keycloak may list them. */
function hilde(realm: string): Record<string, unknown> {
  const [first, second, third] = PASSWORDS.map((password) => pbkdf2Sha256(password));
  return {
    id: `hilde-of-${realm}`,
    username: 'Hilde',
    email: `hilde@${realm}.example`,
    emailVerified: true,
    createdTimestamp: CREATED,
    enabled: true,
    attributes: { locale: ['de'], department: ['sales', 'emea'], 'org.unit': ['north'] },
    credentials: [
      generatedCredential('password', 0, CREATED + 3 * DAY, third),
      generatedCredential('password-history', 1, CREATED + 2 * DAY, second),
      generatedCredential('password-history', 2, CREATED + DAY, first),
    ],
    requiredActions: [],
    realmRoles: [`default-roles-${realm}`],
  };
}

beforeAll(async () => {
  issuer = await TestIssuer.start();
  // alpha keeps three passwords, beta two: the same history must then refuse different ones.
  service = await startTestService(
    'imported-users',
    {
      realms: {
        alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE, passwordPolicy: 'length(8) and passwordHistory(3)' },
        beta: { issuer: issuer.issuerOf('beta'), bruteForce: RELAXED_BRUTE_FORCE, passwordPolicy: 'length(8) and passwordHistory(2)' },
      },
    },
    issuer,
  );
  scratch = mkdtempSync(join(tmpdir(), 'imported-users-'));
  await writeSingleFileExport(join(scratch, 'alpha.json'), { realm: 'alpha', users: 1, user: () => hilde('alpha') });
  await writeDirectoryExport(join(scratch, 'beta'), { realm: 'beta', users: 1, user: () => hilde('beta') });
  const env = { MONGODB_URI: service.uri, REALMS: 'alpha,beta', OIDC_ISSUER_BASE_URL: 'http://127.0.0.1:9/idp' };
  for (const source of [join(scratch, 'alpha.json'), join(scratch, 'beta')]) {
    const result = await runCli(['import-keycloak', source], env);
    expect(result.stdout).toMatch(/^imported 1, unchanged 0, skipped 0/);
  }
});
afterAll(async () => {
  await service.close();
  await issuer.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function change(realm: string, to: string): Promise<{ status: number; policies: string[] }> {
  const token = await service.issuer.sign({ sub: `hilde-of-${realm}` }, { realm });
  const res = await call(service.app, 'post', `/realms/${realm}/password-resources/reset-password`, { token, body: { currentPassword: PASSWORDS[2], newPassword: to } });
  return { status: res.status, policies: ((res.body as { violations?: { policy: string }[] } | undefined)?.violations ?? []).map((v) => v.policy) };
}

describe("a user's Keycloak password history, at the first change after the import", () => {
  it('passwordHistory(3) refuses both earlier Keycloak passwords, and takes a new one', async () => {
    expect(await change('alpha', PASSWORDS[0])).toEqual({ status: 400, policies: ['passwordHistory'] });
    expect(await change('alpha', PASSWORDS[1])).toEqual({ status: 400, policies: ['passwordHistory'] });
    expect(await change('alpha', 'a fourth password 4')).toEqual({ status: 204, policies: [] });
  });

  it("passwordHistory(2) refuses the later of them and takes the earlier: Keycloak's order is kept", async () => {
    expect(await change('beta', PASSWORDS[1])).toEqual({ status: 400, policies: ['passwordHistory'] });
    expect(await change('beta', PASSWORDS[0])).toEqual({ status: 204, policies: [] });
  });
});

describe("attributes in Keycloak's shape through the admin API", () => {
  const user = '/admin/realms/alpha/users/hilde-of-alpha';
  const token = (): Promise<string> => service.issuer.sign({ sub: 'admin-1', resource_access: { 'realm-management': { roles: ['manage-users'] } } }, { realm: 'alpha' });

  it('returns the imported attributes, locale among them, with the created time and email verification', async () => {
    const res = await call(service.app, 'get', user, { token: await token() });
    expect(res.body).toMatchObject({
      username: 'hilde',
      emailVerified: true,
      createdTimestamp: CREATED,
      attributes: { locale: ['de'], department: ['sales', 'emea'], 'org.unit': ['north'] },
    });
  });

  it('takes back what GET returned unchanged, and replaces the attributes with those given', async () => {
    const representation = (await call(service.app, 'get', user, { token: await token() })).body as Record<string, unknown>;
    expect((await call(service.app, 'put', user, { token: await token(), body: representation })).status).toBe(204);
    expect((await call(service.app, 'get', user, { token: await token() })).body).toEqual(representation);

    expect((await call(service.app, 'put', user, { token: await token(), body: { attributes: { department: ['support'], 'cost center': ['4711', '0815'] } } })).status).toBe(204);
    const after = await call(service.app, 'get', user, { token: await token() });
    // As in Keycloak, attributes left out (locale too) are removed.
    expect((after.body as { attributes: unknown }).attributes).toEqual({ department: ['support'], 'cost center': ['4711', '0815'] });
  });

  it('creates a user with attributes, and returns none for a user without', async () => {
    const created = await call(service.app, 'post', '/admin/realms/alpha/users', { token: await token(), body: { username: 'ingo', enabled: true, attributes: { locale: ['en'], team: ['blue'] } } });
    expect(created.status).toBe(201);
    const res = await call(service.app, 'get', String(created.headers.location), { token: await token() });
    expect((res.body as { attributes: unknown }).attributes).toEqual({ team: ['blue'], locale: ['en'] });
    const plain = await call(service.app, 'post', '/admin/realms/alpha/users', { token: await token(), body: { username: 'jana', enabled: true } });
    expect((await call(service.app, 'get', String(plain.headers.location), { token: await token() })).body).not.toHaveProperty('attributes');
  });

  it('refuses an attribute whose values are not a list of strings', async () => {
    const res = await call(service.app, 'put', user, { token: await token(), body: { attributes: { department: 'sales' } } });
    expect(res.status).toBe(400);
  });
});

describe("attributes at the admin API's limits at import", () => {
  const token = (): Promise<string> => service.issuer.sign({ sub: 'admin-1', resource_access: { 'realm-management': { roles: ['manage-users'] } } }, { realm: 'alpha' });
  const many = (count: number): Record<string, string[]> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`a${i}`, ['x']]));
  /** At every limit at once: 100 attributes (locale among them), a name of 255 characters, 100 values, a value of 2,048 characters. */
  const atLimits = { ...many(97), locale: ['de'], ['n'.repeat(255)]: ['v'], wide: Array.from({ length: 100 }, (_, i) => (i === 0 ? 'w'.repeat(2048) : `v${i}`)) };
  const beyond: [string, Record<string, string[]>, string][] = [
    ['too-many', many(101), '101 attributes, more than 100'],
    ['too-long', { note: ['l'.repeat(2049)] }, 'attributes."note"[0] has 2049 characters, more than 2048'],
    ['long-name', { ['m'.repeat(256)]: ['v'] }, `the attribute name "${'m'.repeat(40)}…" has 256 characters, more than 255`],
    ['too-wide', { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 'attributes."tags" has 101 values, more than 100'],
    ['two-locales', { locale: ['de', 'en'] }, 'attributes."locale" has 2 values, more than 1'],
  ];
  let imported: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    const users = [['at-limits', atLimits] as const, ...beyond.map(([name, attributes]) => [name, attributes] as const)];
    const file = join(scratch, 'limits.json');
    await writeSingleFileExport(file, {
      realm: 'alpha',
      users: users.length,
      user: (index) => ({ id: `limits-${index}`, username: users[index]?.[0], enabled: true, attributes: users[index]?.[1], credentials: [generatedCredential('password', index, CREATED)] }),
    });
    imported = await runCli(['import-keycloak', file], { MONGODB_URI: service.uri, REALMS: 'alpha', OIDC_ISSUER_BASE_URL: 'http://127.0.0.1:9/idp' });
  });

  it('imports a user at every limit, whose attributes the admin API returns and takes back unchanged', async () => {
    expect(imported.stdout).toBe(`imported 1, unchanged 0, skipped ${beyond.length} (realm "alpha")\n`);
    const res = await call(service.app, 'get', '/admin/realms/alpha/users/limits-0', { token: await token() });
    expect((res.body as { attributes: unknown }).attributes).toEqual(atLimits);
    expect((await call(service.app, 'put', '/admin/realms/alpha/users/limits-0', { token: await token(), body: res.body })).status).toBe(204);
  });

  it('skips each user beyond a limit, naming the limit, as the admin API refuses the same attributes', async () => {
    const skipped = imported.stderr.split('\n').filter((line) => line.includes(' skipped '));
    expect(skipped).toEqual(beyond.map(([name, , why], i) => `password-resources: skipped users[${i + 1}] "${name}" (id limits-${i + 1}): attributes beyond the admin API's limits (it would refuse this user): ${why}`));
    for (const [, attributes] of beyond) {
      const res = await call(service.app, 'put', '/admin/realms/alpha/users/limits-0', { token: await token(), body: { attributes } });
      expect(res.status).toBe(400);
    }
    for (const index of beyond.keys()) expect((await call(service.app, 'get', `/admin/realms/alpha/users/limits-${index + 1}`, { token: await token() })).status).toBe(404);
  });
});
