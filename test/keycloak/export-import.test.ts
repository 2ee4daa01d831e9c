import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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
 * A realm exported by Keycloak itself, in both layouts (`kc.sh export --users
 * same_file`, and `--dir --users different_files`), with passwords hashed
 * each way Keycloak 26 hashes them, imported with our `import-keycloak`:
 * every user keeps their password, id, email, `enabled`, required actions,
 * password history and attributes, and both layouts give the same users.
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
/** Three passwords set in turn while the realm kept three (`passwordHistory(3)`), and attributes of its own. */
const HISTORIAN = {
  username: 'historian',
  passwords: ['the first one is 1', 'the second one is 2', 'the third one is 3'],
  attributes: { department: ['sales', 'emea'], 'cost.center': ['4711'] },
} as const;
const ALL = 6;

const ids: Record<string, string> = {};
let scratch: string;
let exportFile: string;
let exportDir: string;
let dirUri: string;
let dirImported: { code: number | null; stdout: string; stderr: string };
let uri: string;
let connection: Connection;
let store: UserStore;
let service: TestService;
let imported: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  await keycloak.createRealm(realm, { bruteForceProtected: true, failureFactor: 7, waitIncrementSeconds: 120 });
  await keycloak.createClient(realm, { clientId: 'spa', publicClient: true, directAccessGrantsEnabled: true, protocolMappers: [audienceMapper('password-resources')] });
  const admin = await keycloak.createClient(realm, {
    clientId: 'back-office',
    publicClient: false,
    secret: 'back-office-secret',
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    protocolMappers: [audienceMapper('password-resources')],
  });
  await keycloak.grantRealmManagement(realm, admin, ['view-users']);
  // Keycloak 24+ keeps attributes outside its user profile only when the realm allows them.
  const { body: profile } = await keycloak.request<Record<string, unknown>>('GET', `/${realm}/users/profile`);
  await keycloak.request('PUT', `/${realm}/users/profile`, { ...profile, unmanagedAttributePolicy: 'ENABLED' });
  await keycloak.updateRealm(realm, { passwordPolicy: `${POLICY} and passwordHistory(3)` });
  const [first, ...later] = HISTORIAN.passwords;
  ids[HISTORIAN.username] = await keycloak.createUser(realm, { username: HISTORIAN.username, password: first, attributes: HISTORIAN.attributes });
  for (const password of later) await keycloak.request('PUT', `/${realm}/users/${ids[HISTORIAN.username] ?? ''}/reset-password`, { type: 'password', value: password, temporary: false });
  for (const user of USERS) {
    await keycloak.updateRealm(realm, { passwordPolicy: user.hashAlgorithm === undefined ? POLICY : `${POLICY} and hashAlgorithm(${user.hashAlgorithm})` });
    ids[user.username] = await keycloak.createUser(realm, { username: user.username, password: user.password, email: `${user.username}@example.org` });
  }
  ids[TEMPORARY.username] = await keycloak.createUser(realm, { ...TEMPORARY, temporary: true });
  ids[DISABLED.username] = await keycloak.createUser(realm, { ...DISABLED, enabled: false });

  scratch = await mkdtemp(join(tmpdir(), 'keycloak-export-'));
  exportFile = join(scratch, `${realm}.json`);
  const server = { home: process.env.KEYCLOAK_HOME ?? '', dbUrl: process.env.KEYCLOAK_DB_URL ?? '' };
  await exportRealm(server, realm, exportFile);
  // Two users a file: the realm's users are spread over three files.
  exportDir = join(scratch, 'dir');
  await exportRealm(server, realm, exportDir, { usersPerFile: 2 });

  uri = testDatabaseUri('keycloak-export');
  imported = await runCli(['import-keycloak', exportFile], { MONGODB_URI: uri, REALMS: realm, OIDC_ISSUER_BASE_URL: keycloak.url, BCRYPT_COST: '10' });
  dirUri = testDatabaseUri('keycloak-export-dir');
  dirImported = await runCli(['import-keycloak', exportDir], { MONGODB_URI: dirUri, REALMS: realm, OIDC_ISSUER_BASE_URL: keycloak.url, BCRYPT_COST: '10' });
  connection = mongoose.createConnection(uri, { bufferCommands: false });
  await connection.asPromise();
  store = createMongooseUserStore(connection);
  service = await startTestService('keycloak-export-service', {
    mongodbUri: uri,
    realms: { [realm]: { issuer: keycloak.issuerOf(realm), audience: 'password-resources', passwordPolicy: `${POLICY} and passwordHistory(3)`, bruteForce: RELAXED_BRUTE_FORCE } },
  });
}, 480_000);
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
  // The back-office client's service account is a user too, without a password.
  expect(imported.stdout.trim()).toBe(`imported ${ALL}, unchanged 0, skipped 1 (realm "${realm}")`);
  expect(imported.stderr).toMatch(/^password-resources: skipped users\[\d+\] "service-account-back-office" \(id [^)]+\): service account of client "back-office": it has no password$/m);
  // The realm's settings, printed as CONFIG_FILE's entry, its hashing policy included.
  expect(imported.stderr).toContain(`realms:\n  ${realm}:\n    passwordPolicy: ${POLICY} and hashAlgorithm(pbkdf2-sha256)\n`);
  expect(imported.stderr).toMatch(/ {4}bruteForce:\n(?: {6}.*\n)* {6}failureFactor: 7\n/);
});

it('imports the same users from the directory kc.sh export --dir writes, file by file', async () => {
  expect(await readdir(exportDir)).toEqual(expect.arrayContaining([`${realm}-realm.json`, `${realm}-users-0.json`, `${realm}-users-1.json`, `${realm}-users-2.json`]));
  expect(dirImported.code).toBe(0);
  expect(dirImported.stdout.trim()).toBe(`imported ${ALL}, unchanged 0, skipped 1 (realm "${realm}")`);
  expect(dirImported.stderr).toMatch(new RegExp(`^password-resources: skipped ${realm}-users-\\d+\\.json users\\[\\d\\] "service-account-back-office"`, 'm'));
  const other = mongoose.createConnection(dirUri, { bufferCommands: false });
  try {
    await other.asPromise();
    const fromDir = createMongooseUserStore(other);
    for (const id of Object.values(ids)) expect(await fromDir.findById(realm, id)).toEqual(await store.findById(realm, id));
  } finally {
    await other.close();
  }
});

it("keeps the historian's Keycloak password history, so passwordHistory(3) refuses both earlier passwords at the first change", async () => {
  const [first, second, current] = HISTORIAN.passwords;
  const stored = await store.findById(realm, ids[HISTORIAN.username] ?? '');
  expect(stored?.previousCredentials).toHaveLength(2);
  const { access_token } = await keycloak.login(realm, 'spa', HISTORIAN.username, current);
  const change = (newPassword: string) => call(service.app, 'post', `/realms/${realm}/password-resources/reset-password`, { token: access_token, body: { currentPassword: current, newPassword } });
  for (const earlier of [first, second]) {
    const refused = await change(earlier);
    expect(refused.status).toBe(400);
    expect((refused.body as { violations: { policy: string }[] }).violations.map((v) => v.policy)).toEqual(['passwordHistory']);
  }
  expect((await change('a fourth one is 4')).status).toBe(204);
});

it("returns the historian's Keycloak attributes through the admin API, in Keycloak's shape", async () => {
  const { access_token } = await keycloak.tokenRequest(realm, { grant_type: 'client_credentials', client_id: 'back-office', client_secret: 'back-office-secret' });
  const res = await call(service.app, 'get', `/admin/realms/${realm}/users/${ids[HISTORIAN.username] ?? ''}`, { token: access_token });
  expect(res.status).toBe(200);
  expect((res.body as { attributes: unknown }).attributes).toEqual(HISTORIAN.attributes);
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
