import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { HEAP_GROWING_PERCENT } from '../../src/cli/import-command';
import { MAX_BATCH_BYTES, importKeycloakExport, openKeycloakExport } from '../../src/cli/import-keycloak';
import type { UserStore } from '../../src/domain/store';
import { createMongooseUserStore } from '../../src/store/mongoose/user-store';
import { testDatabaseUri } from '../helpers/db';
import { generatedRealmSettings, generatedUser, generatedUserId, writeDirectoryExport, writeSingleFileExport } from '../helpers/keycloak-export';
import { runCli, spawnCli } from '../helpers/spawn';

/** Generated Keycloak-shaped exports (test/helpers/keycloak-export.ts) in each layout `kc.sh export` writes. */
const USERS = 1_200;
const REALMS = ['single', 'split', 'piped', 'again', 'halted', 'bad', 'large'];

let env: Record<string, string>;
let connection: Connection;
let store: UserStore;
let scratch: string;

beforeAll(async () => {
  const uri = testDatabaseUri('import-layouts');
  env = { MONGODB_URI: uri, REALMS: REALMS.join(','), OIDC_ISSUER_BASE_URL: 'http://127.0.0.1:9/idp' };
  connection = mongoose.createConnection(uri, { bufferCommands: false });
  await connection.asPromise();
  store = createMongooseUserStore(connection);
  await store.init();
  scratch = mkdtempSync(join(tmpdir(), 'import-layouts-'));
});
afterAll(async () => {
  await connection.close();
  rmSync(scratch, { recursive: true, force: true });
});

const users = (realm: string): Promise<number> => store.count(realm, {});

/** What the import must have made of the generated user at `index`. */
async function expectImported(realm: string, index: number): Promise<void> {
  const source = generatedUser(realm, index) as { credentials: { id: string; createdDate: number; secretData: string }[]; createdTimestamp: number; email: string };
  const stored = await store.findById(realm, generatedUserId(index));
  const [current, older, newer] = source.credentials;
  const hashOf = (credential: { secretData: string } | undefined): string => (JSON.parse(credential?.secretData ?? '{}') as { value: string }).value;
  expect(stored).toMatchObject({
    username: `user${index.toString().padStart(7, '0')}`,
    email: source.email,
    emailVerified: index % 3 !== 0,
    enabled: index % 50 !== 0,
    locale: index % 2 === 0 ? 'en' : 'de',
    attributes: { department: ['sales', 'emea'] },
    requiredActions: index % 100 === 0 ? ['UPDATE_PASSWORD'] : [],
    createdAt: new Date(source.createdTimestamp),
    passwordChangedAt: undefined,
    credential: { id: current?.id, algorithm: 'pbkdf2-sha512', hash: hashOf(current), createdAt: new Date(current?.createdDate ?? 0) },
  });
  // Keycloak's password history, oldest first as the service keeps it, with Keycloak's own times.
  expect(stored?.previousCredentials.map((c) => [c.id, c.hash, c.createdAt])).toEqual([
    [older?.id, hashOf(older), new Date(older?.createdDate ?? 0)],
    [newer?.id, hashOf(newer), new Date(newer?.createdDate ?? 0)],
  ]);
}

describe('import-keycloak, each layout of kc.sh export', () => {
  it('imports a single file (--users same_file) whole, with history, attributes and times', async () => {
    const file = join(scratch, 'single.json');
    await writeSingleFileExport(file, { realm: 'single', users: USERS });
    const result = await runCli(['import-keycloak', file], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`imported ${USERS}, unchanged 0, skipped 0 (realm "single")\n`);
    await expect(users('single')).resolves.toBe(USERS);
    for (const index of [0, 1, 3, 50, 100, USERS - 1]) await expectImported('single', index);
  });

  it('imports a directory (--dir, --users different_files) file by file, in the order of N', async () => {
    const dir = join(scratch, 'split');
    await writeDirectoryExport(dir, { realm: 'split', users: USERS, usersPerFile: 50 });
    const result = await runCli(['import-keycloak', dir, '--json'], env);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ realm: 'split', layout: 'directory', imported: USERS, unchanged: 0, skipped: 0, interrupted: false });
    // The realm file's settings, in CONFIG_FILE's names; the SMTP password, masked in the export, from the environment.
    expect(report.config).toMatchObject({
      passwordPolicy: 'length(8) and passwordHistory(3)',
      bruteForce: { failureFactor: 5, failureResetTimeSeconds: 43200 },
      smtp: { host: 'smtp.example.com', port: '587', from: 'no-reply@example.com', user: 'mailer', passwordEnv: 'SMTP_PASSWORD_SPLIT' },
      defaultLocale: 'en',
    });
    expect(report.notCarriedOver).toEqual([
      'realm "split": 1 group(s) (staff): this service has no groups',
      'realm "split": 1 realm role(s) (default-roles-split): roles come in the tokens Keycloak issues, not from here',
      `realm "split": ${USERS / 10} user(s) with group memberships`,
    ]);
    await expect(users('split')).resolves.toBe(USERS);
    for (const index of [0, 49, 50, 999, USERS - 1]) await expectImported('split', index);
  });

  it('reads standard input given "-"', async () => {
    const file = join(scratch, 'piped.json');
    await writeSingleFileExport(file, { realm: 'piped', users: 300 });
    const result = await runCli(['import-keycloak', '-'], env, readFileSync(file, 'utf8'));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('imported 300, unchanged 0, skipped 0 (realm "piped")\n');
    await expectImported('piped', 299);
  });

  it('asks which realm when the directory holds several, and takes the one named by --realm', async () => {
    const dir = join(scratch, 'two-realms');
    await writeDirectoryExport(dir, { realm: 'split', users: 10 });
    await writeDirectoryExport(dir, { realm: 'master', users: 1 });
    const ask = await runCli(['import-keycloak', dir], env);
    expect(ask).toEqual({ code: 2, stdout: '', stderr: `password-resources: ${dir}: the directory holds the realms master, split; choose one with --realm\n` });
    const chosen = await runCli(['import-keycloak', dir, '--realm', 'split'], env);
    expect(chosen.stdout).toBe('imported 0, unchanged 10, skipped 0 (realm "split")\n');
  });
});

describe('import-keycloak run again, interrupted, or given bad input', () => {
  it('changes nothing when run again: every user counted as unchanged, every document as it was', async () => {
    const dir = join(scratch, 'again');
    await writeDirectoryExport(dir, { realm: 'again', users: 400 });
    expect((await runCli(['import-keycloak', dir], env)).stdout).toBe('imported 400, unchanged 0, skipped 0 (realm "again")\n');
    const before = await store.find('again', {}, { first: 0, max: 1_000 });
    const again = await runCli(['import-keycloak', dir], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('imported 0, unchanged 400, skipped 0 (realm "again")\n');
    await expect(store.find('again', {}, { first: 0, max: 1_000 })).resolves.toEqual(before);
  });

  it('stops on Ctrl-C with the users so far imported, and a second run imports the rest', async () => {
    const total = 30_000;
    const file = join(scratch, 'halted.json');
    await writeSingleFileExport(file, { realm: 'halted', users: total });
    const child = spawnCli(['import-keycloak', file, '--batch-size', '200'], env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Half-way or so: once some users are in, before the last.
    while ((await users('halted')) < 1_000) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    const imported = Number(/^imported (\d+), unchanged 0, skipped 0 \(realm "halted"\), interrupted\n$/.exec(stdout)?.[1]);
    expect(imported).toBeGreaterThanOrEqual(1_000);
    expect(imported).toBeLessThan(total);
    expect(stderr).toContain('password-resources: interrupted: run the same command again to import the rest');
    await expect(users('halted')).resolves.toBe(imported);

    const rest = await runCli(['import-keycloak', file], env);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toBe(`imported ${total - imported}, unchanged ${imported}, skipped 0 (realm "halted")\n`);
    await expect(users('halted')).resolves.toBe(total);
    await expectImported('halted', total - 1);
  }, 120_000);

  it('skips a user that is not JSON or not a user, naming its position, and imports the rest', async () => {
    const good = (index: number): string => JSON.stringify(generatedUser('bad', index));
    const text = `{"realm": "bad", "users": [${good(0)}, {"id": "x", "username": }, ${good(1)}, 42, {"id": "y", "username": "yan", "attributes": {"tags": "one"}, "credentials": ${JSON.stringify((generatedUser('bad', 2) as { credentials: unknown }).credentials)}}, ${good(3)}]}`;
    const file = join(scratch, 'bad.json');
    writeFileSync(file, text);
    const result = await runCli(['import-keycloak', file], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('imported 3, unchanged 0, skipped 3 (realm "bad")\n');
    expect(result.stderr.split('\n').filter((line) => line.includes('skipped'))).toEqual([
      expect.stringMatching(/^password-resources: skipped users\[1\]: not JSON \(.+\)$/),
      'password-resources: skipped users[3]: not a user object',
      'password-resources: skipped users[4] "yan" (id y): attributes.tags is not a list of strings',
    ]);
    for (const index of [0, 1, 3]) await expect(store.findById('bad', generatedUserId(index))).resolves.not.toBeNull();
  });

  it('refuses a file that is not a realm export before writing anything', async () => {
    const file = join(scratch, 'not-an-export.json');
    writeFileSync(file, JSON.stringify({ users: [generatedUser('bad', 10)], realm: 'bad' }));
    const result = await runCli(['import-keycloak', file], env);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `password-resources: ${file}: not a Keycloak realm export: "users" comes before the "realm" name\n` });
    await expect(store.findById('bad', generatedUserId(10))).resolves.toBeNull();
  });

  it('stops where a file breaks off, keeping the users before it', async () => {
    const file = join(scratch, 'cut.json');
    const whole = `{"realm": "bad", "users": [${[20, 21].map((i) => JSON.stringify(generatedUser('bad', i))).join(', ')}, {"id": "z", "user`;
    writeFileSync(file, whole);
    const result = await runCli(['import-keycloak', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^password-resources: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not JSON \\(the document ends inside "users", after 2 users at byte \\d+\\)\\n$`));
    await expect(store.findById('bad', generatedUserId(21))).resolves.not.toBeNull();
  });

  it('refuses a users file of another realm in a directory before writing it', async () => {
    const dir = join(scratch, 'mixed');
    await writeDirectoryExport(dir, { realm: 'bad', users: 5, settings: { ...generatedRealmSettings('bad') } });
    writeFileSync(join(dir, 'bad-users-0.json'), JSON.stringify({ realm: 'other', users: [generatedUser('bad', 30)] }));
    const result = await runCli(['import-keycloak', dir], env);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `password-resources: ${dir}: bad-users-0.json: holds users of the realm "other", not "bad"\n` });
    await expect(store.findById('bad', generatedUserId(30))).resolves.toBeNull();
  });
});

describe('import-keycloak memory, whatever the export', () => {
  it('cuts batches at 4 MiB of the export, so a realm of large users keeps memory as bounded as one of small ones', async () => {
    // 60 users of about 200 KB (90 attributes of 2,048 characters): some 12 MB, so three writes, not one of 60.
    const wide = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`a${i}`, ['x'.repeat(2048)]]));
    const file = join(scratch, 'large.json');
    await writeSingleFileExport(file, { realm: 'large', users: 60, user: (index) => ({ ...generatedUser('large', index), attributes: wide }) });
    const written: number[] = [];
    const report = await importKeycloakExport(await openKeycloakExport(file), store, { onProgress: (progress) => written.push(progress.imported) });
    expect(report).toMatchObject({ imported: 60, skipped: 0 });
    expect(MAX_BATCH_BYTES).toBe(4 * 2 ** 20);
    expect(written).toHaveLength(3);
    expect(written.at(-1)).toBe(60);
  });

  it(`sets a V8 flag this Node knows (--heap-growing-percent=${HEAP_GROWING_PERCENT}), so the heap follows the import's live data`, () => {
    const options = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
    expect(options).toContain('--heap-growing-percent ');
  });
});
