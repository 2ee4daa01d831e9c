import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { verifyForeignCredential } from '../../src/domain/credential-formats';
import type { UserRecord, UserStore } from '../../src/domain/store';
import { createMongooseUserStore } from '../../src/store/mongoose/user-store';
import { testDatabaseUri } from '../helpers/db';
import { runCli, stopSpawned } from '../helpers/spawn';

/** Made by test/fixtures/make-credential-vectors.py, which holds the same passwords; the export holds only their hashes. */
const EXPORT = join(__dirname, '..', 'fixtures', 'keycloak-realm-export.json');
const KNOWN_PASSWORDS = {
  alice: 'alice in keycloak land',
  bob: "bob's temporary pass",
  carol: 'carol uses argon2id',
  dave: 'dåve\'s sha1 pässword',
} as const;

interface ExportedCredential {
  id: string;
  type: string;
  createdDate: number;
  secretData: string;
  credentialData: string;
}
interface ExportedUser {
  id: string;
  username: string;
  email?: string;
  emailVerified: boolean;
  createdTimestamp: number;
  enabled: boolean;
  requiredActions: string[];
  credentials: ExportedCredential[];
}
const exported = JSON.parse(readFileSync(EXPORT, 'utf8')) as { realm: string; users: ExportedUser[] };

function exportedUser(username: string): ExportedUser {
  const user = exported.users.find((u) => u.username === username);
  if (!user) throw new Error(`the fixture has no user ${username}`);
  return user;
}

let uri: string;
let env: Record<string, string>;
let connection: Connection;
let store: UserStore;
let scratch: string;

beforeAll(async () => {
  uri = testDatabaseUri('import-keycloak');
  // REALMS names the served realms; the issuer base is required with it but never contacted by this command.
  env = { MONGODB_URI: uri, REALMS: 'acme,other', OIDC_ISSUER_BASE_URL: 'http://127.0.0.1:9/idp' };
  connection = mongoose.createConnection(uri, { bufferCommands: false });
  await connection.asPromise();
  store = createMongooseUserStore(connection);
  await store.init();
  scratch = mkdtempSync(join(tmpdir(), 'import-keycloak-'));
});
afterAll(async () => {
  await stopSpawned();
  await connection.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function storedUser(username: string): Promise<UserRecord> {
  const user = await store.findById('acme', exportedUser(username).id);
  if (!user) throw new Error(`user ${username} was not imported`);
  return user;
}

describe('password-resources import-keycloak', () => {
  let first: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    first = await runCli(['import-keycloak', EXPORT], env);
  });

  it('imports the users it can, counts them in one line, names each skipped user by position, and prints the settings to carry over', () => {
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('imported 4, unchanged 0, skipped 3 (realm "acme")\n');
    expect(first.stderr).toBe(
      [
        `password-resources: skipped users[4] "erin" (id ${exportedUser('erin').id}): no password credential (has otp)`,
        `password-resources: skipped users[5] "frank" (id ${exportedUser('frank').id}): Keycloak credential: credentialData.algorithm "sha1-legacy-provider" is not supported (supported: argon2, pbkdf2, pbkdf2-sha256, pbkdf2-sha512, bcrypt)`,
        `password-resources: skipped users[6] "service-account-billing" (id ${exportedUser('service-account-billing').id}): service account of client "billing": it has no password`,
        'password-resources: not carried over: realm "acme": 1 realm role(s) (default-roles-acme): roles come in the tokens Keycloak issues, not from here',
        'password-resources: realm "acme": the settings to use, for CONFIG_FILE:',
        'realms:',
        '  acme:',
        '    passwordPolicy: length(8) and notUsername and passwordHistory(3) and hashAlgorithm(argon2)',
        '    bruteForce:',
        '      failureFactor: 5',
        '      waitIncrementSeconds: 60',
        '      maxFailureWaitSeconds: 900',
        '      failureResetTimeSeconds: 43200',
        '      quickLoginCheckMilliSeconds: 1000',
        '      minimumQuickLoginWaitSeconds: 60',
        '      permanentLockout: false',
        '      maxTemporaryLockouts: 0',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['alice', 'pbkdf2-sha256', { iterations: 27500 }],
    ['bob', 'pbkdf2-sha512', { iterations: 10000 }],
    ['carol', 'argon2', { iterations: 5, type: 'id', version: '1.3', memory: 7168, parallelism: 1, hashLength: 32 }],
    ['dave', 'pbkdf2', { iterations: 20000 }],
  ] as const)('keeps %s\'s Keycloak credential as it was (%s), and the user as exported', async (username, algorithm, parameters) => {
    const source = exportedUser(username);
    const [password] = source.credentials;
    if (!password) throw new Error(`the fixture's ${username} has no credential`);
    const secret = JSON.parse(password.secretData) as { value: string; salt: string };
    const user = await storedUser(username);
    expect(user).toMatchObject({
      realm: 'acme',
      id: source.id,
      username,
      email: source.email?.toLowerCase(),
      emailVerified: source.emailVerified,
      enabled: source.enabled,
      requiredActions: source.requiredActions,
      createdAt: new Date(source.createdTimestamp),
      previousCredentials: [],
      attributes: {},
      // Importing is not a password change: tokens issued before it stay valid.
      passwordChangedAt: undefined,
      loginFailures: undefined,
    });
    // Keycloak's credential id carries over, so the admin API names the credential as Keycloak did.
    expect(user.credential).toEqual({ id: password.id, algorithm, hash: secret.value, salt: secret.salt, parameters, createdAt: new Date(password.createdDate) });
  });

  it('lower-cases emails, keeps required actions and the disabled state', async () => {
    expect((await storedUser('bob')).email).toBe('bob.builder@example.com');
    expect((await storedUser('bob')).requiredActions).toEqual(['UPDATE_PASSWORD']);
    expect((await storedUser('carol')).enabled).toBe(false);
    expect((await storedUser('dave')).email).toBeUndefined();
  });

  it.each(Object.entries(KNOWN_PASSWORDS))('%s\'s stored credential accepts the password they had in Keycloak, and no other', async (username, password) => {
    const { credential } = await storedUser(username);
    if (!credential) throw new Error(`${username} has no credential`);
    await expect(verifyForeignCredential(password, credential)).resolves.toBe(true);
    await expect(verifyForeignCredential(`${password} `, credential)).resolves.toBe(false);
  });

  it('changes nothing when run again: every imported user is unchanged, the same users are skipped', async () => {
    const ids = exported.users.map((u) => u.id);
    const before = await Promise.all(ids.map((id) => store.findById('acme', id)));
    const again = await runCli(['import-keycloak', EXPORT], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('imported 0, unchanged 4, skipped 3 (realm "acme")\n');
    expect(again.stderr).toBe(first.stderr);
    await expect(Promise.all(ids.map((id) => store.findById('acme', id)))).resolves.toEqual(before);
  });

  it('prints the report as JSON with --json, never a hash', async () => {
    const result = await runCli(['import-keycloak', EXPORT, '--json'], env);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ realm: 'acme', layout: 'file', imported: 0, unchanged: 4, skipped: 3, interrupted: false });
    expect(report.skippedUsers).toEqual([
      { position: 'users[4]', id: exportedUser('erin').id, username: 'erin', reason: 'no password credential (has otp)' },
      { position: 'users[5]', id: exportedUser('frank').id, username: 'frank', reason: expect.stringContaining('"sha1-legacy-provider" is not supported') as unknown },
      { position: 'users[6]', id: exportedUser('service-account-billing').id, username: 'service-account-billing', reason: 'service account of client "billing": it has no password' },
    ]);
    expect(report.config).toEqual({
      passwordPolicy: 'length(8) and notUsername and passwordHistory(3) and hashAlgorithm(argon2)',
      bruteForce: { failureFactor: 5, waitIncrementSeconds: 60, maxFailureWaitSeconds: 900, failureResetTimeSeconds: 43200, quickLoginCheckMilliSeconds: 1000, minimumQuickLoginWaitSeconds: 60, permanentLockout: false, maxTemporaryLockouts: 0 },
    });
    expect(report.notCarriedOver).toHaveLength(1);
    expect(result.stdout).not.toMatch(/secretData|"hash"|\$2[aby]\$/);
  });
});

describe('password-resources import-keycloak with conflicts and bad input', () => {
  it('skips a user whose username or email another user of the realm has, and imports the rest', async () => {
    await store.create({ realm: 'other', id: 'someone-else', username: 'alice', email: 'bob.builder@example.com', enabled: true, requiredActions: [] });
    const file = join(scratch, 'other.json');
    writeFileSync(file, JSON.stringify({ realm: 'other', users: exported.users.filter((u) => ['alice', 'bob', 'carol'].includes(u.username)) }));
    const result = await runCli(['import-keycloak', file], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('imported 1, unchanged 0, skipped 2 (realm "other")\n');
    expect(result.stderr).toBe(
      `password-resources: skipped users[0] "alice" (id ${exportedUser('alice').id}): another user of realm "other" has the username "alice"\n` +
        `password-resources: skipped users[1] "bob" (id ${exportedUser('bob').id}): another user of realm "other" has the email "bob.builder@example.com"\n` +
        // The fixture's users hold realm "acme"'s default role, which is not "other"'s.
        'password-resources: not carried over: realm "other": 3 user(s) with role mappings\n',
    );
    await expect(store.findById('other', exportedUser('carol').id)).resolves.toMatchObject({ username: 'carol' });
    await expect(store.findById('other', 'someone-else')).resolves.toMatchObject({ username: 'alice', credential: undefined });
  });

  it.each<[string, () => string, (file: string) => string | RegExp]>([
    ['a file that does not exist', () => join(scratch, 'missing.json'), (file) => `${file}: cannot read the file (ENOENT)`],
    ['a file that is not JSON', () => write('broken.json', 'realm: acme'), (file) => new RegExp(`^password-resources: ${escapeRegExp(file)}: not JSON \\(.+\\)\\n$`)],
    ['a file that breaks off before its users', () => write('cut.json', '{"realm": '), (file) => new RegExp(`^password-resources: ${escapeRegExp(file)}: not JSON \\(.+\\)\\n$`)],
    ['a list of realms', () => write('list.json', '[{"realm": "acme", "users": []}]'), (file) => `${file}: the file holds a list of realms; export one realm (kc.sh export --realm R) and import that`],
    ['an export without a realm name', () => write('nameless.json', '{"users": []}'), (file) => `${file}: not a Keycloak realm export: "users" comes before the "realm" name`],
    ['a JSON object that is no realm export', () => write('other.json', '{"name": "acme"}'), (file) => `${file}: not a Keycloak realm export (it has no "realm" name)`],
    ['a realm export without users', () => write('nousers.json', '{"realm": "acme"}'), (file) => `${file}: realm "acme": the export has no "users" (export with --users same_file, or give the directory of --users different_files)`],
    ['a directory that is no export', () => mkdtempSync(join(scratch, 'empty-')), (dir) => `${dir}: no <realm>-realm.json in the directory (not a kc.sh export --dir)`],
    ['a realm this server does not serve', () => write('gamma.json', '{"realm": "gamma", "users": []}'), (file) => `${file}: the export's realm "gamma" is not in REALMS (acme, other)`],
  ])('refuses %s with one line and exit 2', async (_case, makeFile, message) => {
    const file = makeFile();
    const result = await runCli(['import-keycloak', file], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const expected = message(file);
    if (typeof expected === 'string') expect(result.stderr).toBe(`password-resources: ${expected}\n`);
    else expect(result.stderr).toMatch(expected);
  });

  it('needs MONGODB_URI', async () => {
    const result = await runCli(['import-keycloak', EXPORT], { ...env, MONGODB_URI: '' });
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'password-resources: MONGODB_URI: is required for this command (the database to change)\n' });
  });

  it('reports an unreachable database in one line and exit 1', async () => {
    const result = await runCli(['import-keycloak', EXPORT], { ...env, MONGODB_URI: 'mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=500' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^password-resources: cannot reach MongoDB at MONGODB_URI: .+\n$/);
  });
});

function write(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
