import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { exportRealm } from '../../scripts/keycloak';
import type { UserStore } from '../../src/domain/store';
import { createMongooseUserStore } from '../../src/store/mongoose/user-store';
import { call } from '../helpers/api';
import { testDatabaseUri } from '../helpers/db';
import { audienceMapper, KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';
import type { TestService } from '../helpers/setup';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import { runCli } from '../helpers/spawn';

/**
 * A realm exported by Keycloak itself (`kc.sh export --users same_file`),
 * with passwords hashed each way Keycloak 26 hashes them, imported with our
 * `import-keycloak`: every user keeps their password, id, email, `enabled`
 * and required actions.
 */
const keycloak = KeycloakAdmin.fromEnv();
const realm = uniqueRealm('exported');
const POLICY = 'length(10) and digits(1)';

/** Each user, the password the test knows, and the hashing policy in force when it was set. */
const USERS = [
  { username: 'argon', password: 'argon2id is the default 1', hashAlgorithm: undefined, algorithm: 'argon2' },
  { username: 'sha512', password: 'pbkdf2 with sha512 2', hashAlgorithm: 'pbkdf2-sha512', algorithm: 'pbkdf2-sha512' },
  { username: 'sha256', password: 'pbkdf2 with sha256 3', hashAlgorithm: 'pbkdf2-sha256', algorithm: 'pbkdf2-sha256' },
] as const;
const TEMPORARY = { username: 'temp', password: 'a temporary one 4' };
const DISABLED = { username: 'off', password: 'a disabled user 5' };

const ids: Record<string, string> = {};
let scratch: string;
let exportFile: string;
let uri: string;
let connection: Connection;
let store: UserStore;
let service: TestService;
let imported: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  await keycloak.createRealm(realm, { bruteForceProtected: true, failureFactor: 7, waitIncrementSeconds: 120 });
  await keycloak.createClient(realm, { clientId: 'spa', publicClient: true, directAccessGrantsEnabled: true, protocolMappers: [audienceMapper('password-resources')] });
  for (const user of USERS) {
    await keycloak.updateRealm(realm, { passwordPolicy: user.hashAlgorithm === undefined ? POLICY : `${POLICY} and hashAlgorithm(${user.hashAlgorithm})` });
    ids[user.username] = await keycloak.createUser(realm, { username: user.username, password: user.password, email: `${user.username}@example.org` });
  }
  ids[TEMPORARY.username] = await keycloak.createUser(realm, { ...TEMPORARY, temporary: true });
  ids[DISABLED.username] = await keycloak.createUser(realm, { ...DISABLED, enabled: false });

  scratch = await mkdtemp(join(tmpdir(), 'keycloak-export-'));
  exportFile = join(scratch, `${realm}.json`);
  await exportRealm({ home: process.env.KEYCLOAK_HOME ?? '', dbUrl: process.env.KEYCLOAK_DB_URL ?? '' }, realm, exportFile);

  uri = testDatabaseUri('keycloak-export');
  imported = await runCli(['import-keycloak', exportFile], { MONGODB_URI: uri, REALMS: realm, OIDC_ISSUER_BASE_URL: keycloak.url, BCRYPT_COST: '10' });
  connection = mongoose.createConnection(uri, { bufferCommands: false });
  await connection.asPromise();
  store = createMongooseUserStore(connection);
  service = await startTestService('keycloak-export-service', {
    mongodbUri: uri,
    realms: { [realm]: { issuer: keycloak.issuerOf(realm), audience: 'password-resources', passwordPolicy: POLICY, bruteForce: RELAXED_BRUTE_FORCE } },
  });
}, 240_000);
afterAll(async () => {
  await service.close();
  await connection.close();
  await keycloak.deleteRealm(realm);
  await rm(scratch, { recursive: true, force: true });
});

interface ExportedUser {
  username: string;
  credentials: { type: string; credentialData: string }[];
}

it("exports each user's password hashed the way the policy said", async () => {
  const document = JSON.parse(await readFile(exportFile, 'utf8')) as { passwordPolicy: string; users: ExportedUser[] };
  expect(document.passwordPolicy).toBe(`${POLICY} and hashAlgorithm(pbkdf2-sha256)`);
  const algorithmOf = (username: string): unknown => {
    const credential = document.users.find((u) => u.username === username)?.credentials.find((c) => c.type === 'password');
    return (JSON.parse(credential?.credentialData ?? '{}') as { algorithm?: string }).algorithm;
  };
  for (const user of USERS) expect(algorithmOf(user.username)).toBe(user.algorithm);
});

it('imports every user, and prints the policy and brute force settings to use', () => {
  expect(imported.code).toBe(0);
  expect(imported.stdout.trim()).toBe(`imported 5, unchanged 0, skipped 0 (realm "${realm}")`);
  // The realm's settings, printed as CONFIG_FILE's entry, its hashing policy included.
  expect(imported.stderr).toContain(`realms:\n  ${realm}:\n    passwordPolicy: ${POLICY} and hashAlgorithm(pbkdf2-sha256)\n`);
  expect(imported.stderr).toMatch(/ {4}bruteForce:\n(?: {6}.*\n)* {6}failureFactor: 7\n/);
});

it.each(USERS.map((user) => [user.username, user]))('validates %s with the same password and its Keycloak token, then keeps it as an argon2id PHC string', async (_name, user) => {
  const before = await store.findById(realm, ids[user.username] ?? '');
  expect({ algorithm: before?.credential?.algorithm, email: before?.email, enabled: before?.enabled }).toEqual({ algorithm: user.algorithm, email: `${user.username}@example.org`, enabled: true });
  const { access_token } = await keycloak.login(realm, 'spa', user.username, user.password);
  const path = `/realms/${realm}/password-resources/validate-password`;
  expect((await call(service.app, 'post', path, { token: access_token, body: { password: 'not the password 0' } })).body).toEqual({ valid: false });
  expect((await call(service.app, 'post', path, { token: access_token, body: { password: user.password } })).body).toEqual({ valid: true });
  const after = await store.findById(realm, ids[user.username] ?? '');
  expect(after?.credential?.hash).toMatch(/^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
  // A re-hash is not a change: the token still works.
  expect((await call(service.app, 'post', path, { token: access_token, body: { password: user.password } })).body).toEqual({ valid: true });
});

it('carries over the temporary password as UPDATE_PASSWORD', async () => {
  const user = await store.findById(realm, ids[TEMPORARY.username] ?? '');
  if (!user) throw new Error('not imported');
  expect(user.requiredActions).toEqual(['UPDATE_PASSWORD']);
  // Keycloak gives this user no token until the password is changed; the service's own use case answers.
  expect(await service.resources.accounts.validatePassword(user, TEMPORARY.password)).toBe(true);
  expect(service.resources.accounts.requiredActionsOf(user)).toEqual(['UPDATE_PASSWORD']);
});

it('carries over a disabled user as disabled', async () => {
  const user = await store.findById(realm, ids[DISABLED.username] ?? '');
  expect(user?.enabled).toBe(false);
  expect(await service.resources.accounts.findActiveUser(realm, ids[DISABLED.username] ?? '')).toBeNull();
});
