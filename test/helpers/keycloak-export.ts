/**
 * Keycloak-shaped realm exports of any size, written as `kc.sh export` writes
 * them (Jackson's pretty printer, realm settings before `users`): one file
 * (`--users same_file`) or a directory (`--dir`, `--users different_files`:
 * `<realm>-realm.json` and `<realm>-users-N.json`). Written as a stream, so a
 * million users take no more memory than ten.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { join } from 'node:path';

/** Keycloak's `kc.sh export --users-per-file` default. */
export const KEYCLOAK_USERS_PER_FILE = 50;

export interface GeneratedExportOptions {
  readonly realm: string;
  readonly users: number;
  /** The user at this position (from 0); default {@link generatedUser}. */
  readonly user?: (index: number) => Record<string, unknown>;
  /** Realm settings written before `users`; default {@link generatedRealmSettings}. */
  readonly settings?: Record<string, unknown>;
}

/** Jackson's default pretty printer, as `kc.sh export` writes: `"key" : value`, two-space indent. */
function pretty(value: unknown, indent: string): string {
  return JSON.stringify(value, null, 2)
    .replace(/^( *"(?:[^"\\]|\\.)*"): /gm, '$1 : ')
    .replace(/\n/g, `\n${indent}`);
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/** Realm settings as a Keycloak 26 export has them, for the parts the import reads. */
export function generatedRealmSettings(realm: string): Record<string, unknown> {
  return {
    id: `${realm}-id`,
    realm,
    displayName: `Realm ${realm}`,
    enabled: true,
    bruteForceProtected: true,
    permanentLockout: false,
    maxTemporaryLockouts: 0,
    maxFailureWaitSeconds: 900,
    minimumQuickLoginWaitSeconds: 60,
    waitIncrementSeconds: 60,
    quickLoginCheckMilliSeconds: 1000,
    maxDeltaTimeSeconds: 43200,
    failureFactor: 5,
    roles: { realm: [{ id: 'r1', name: `default-roles-${realm}`, composite: true }], client: {} },
    groups: [{ id: 'g1', name: 'staff', path: '/staff', subGroups: [] }],
    defaultRole: { id: 'r1', name: `default-roles-${realm}`, composite: true },
    passwordPolicy: 'length(8) and passwordHistory(3)',
    smtpServer: { host: 'smtp.example.com', port: '587', from: 'no-reply@example.com', starttls: 'true', auth: 'true', user: 'mailer', password: '**********' },
    internationalizationEnabled: true,
    supportedLocales: ['en', 'de'],
    defaultLocale: 'en',
  };
}

const SALTS = Array.from({ length: 64 }, () => randomBytes(16).toString('base64'));
const HASHES = Array.from({ length: 64 }, () => randomBytes(64).toString('base64'));
const CREATED = Date.UTC(2024, 0, 1);

/** A Keycloak password credential of `kind` (`password` or `password-history`), made with pbkdf2-sha512 of 210,000 iterations (Keycloak 24+'s default). */
export function generatedCredential(kind: 'password' | 'password-history', index: number, createdDate: number, hash?: { value: string; salt: string; iterations: number; algorithm: string }): Record<string, unknown> {
  const secret = hash ?? { value: HASHES[index % HASHES.length] ?? '', salt: SALTS[(index * 7) % SALTS.length] ?? '', iterations: 210_000, algorithm: 'pbkdf2-sha512' };
  return {
    id: `c${index.toString(16).padStart(7, '0')}-${kind === 'password' ? '0000' : createdDate.toString(16).slice(-4)}-4000-8000-${createdDate.toString(16).padStart(12, '0')}`,
    type: kind,
    ...(kind === 'password' ? { userLabel: 'My password' } : {}),
    createdDate,
    secretData: JSON.stringify({ value: secret.value, salt: secret.salt, additionalParameters: {} }),
    credentialData: JSON.stringify({ hashIterations: secret.iterations, algorithm: secret.algorithm, additionalParameters: {} }),
  };
}

/** The `i`-th generated user's id: a UUID Keycloak could have made. */
export function generatedUserId(index: number): string {
  return `5e1f0c2a-${(index >>> 16).toString(16).padStart(4, '0')}-4${(index & 0xfff).toString(16).padStart(3, '0')}-8000-${index.toString(16).padStart(12, '0')}`;
}

/** A typical migrated user: a password, two earlier ones in its history, a locale and another attribute, a role and a group. */
export function generatedUser(realm: string, index: number): Record<string, unknown> {
  const name = `user${index.toString().padStart(7, '0')}`;
  const created = CREATED + index * 1000;
  return {
    id: generatedUserId(index),
    username: name,
    firstName: 'Given',
    lastName: `Family ${index}`,
    email: `${name}@example.com`,
    emailVerified: index % 3 !== 0,
    attributes: { locale: [index % 2 === 0 ? 'en' : 'de'], department: ['sales', 'emea'] },
    createdTimestamp: created,
    enabled: index % 50 !== 0,
    totp: false,
    credentials: [
      generatedCredential('password', index, created + 3 * 86_400_000),
      generatedCredential('password-history', index + 1, created + 86_400_000),
      generatedCredential('password-history', index + 2, created + 2 * 86_400_000),
    ],
    disableableCredentialTypes: [],
    requiredActions: index % 100 === 0 ? ['UPDATE_PASSWORD'] : [],
    realmRoles: [`default-roles-${realm}`],
    notBefore: 0,
    groups: index % 10 === 0 ? ['/staff'] : [],
  };
}

/** A Keycloak pbkdf2-sha256 credential's `value` and `salt` for `password` (few iterations: for tests). */
export function pbkdf2Sha256(password: string, iterations = 1000): { value: string; salt: string; iterations: number; algorithm: string } {
  const salt = randomBytes(16);
  return { value: pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64'), salt: salt.toString('base64'), iterations, algorithm: 'pbkdf2-sha256' };
}

async function writeUsers(out: WriteStream, options: GeneratedExportOptions, from: number, to: number, indent: string): Promise<void> {
  const user = options.user ?? ((index: number) => generatedUser(options.realm, index));
  let chunk = '';
  for (let index = from; index < to; index += 1) {
    chunk += `${index === from ? '' : ', '}${pretty(user(index), indent)}`;
    if (chunk.length > 1 << 16) {
      await write(out, chunk);
      chunk = '';
    }
  }
  await write(out, chunk);
}

/** `kc.sh export --file F --realm R --users same_file`: one document, realm settings then `users`. */
export async function writeSingleFileExport(file: string, options: GeneratedExportOptions): Promise<void> {
  const out = createWriteStream(file);
  const settings = pretty(options.settings ?? generatedRealmSettings(options.realm), '');
  await write(out, `${settings.slice(0, -2)},\n  "users" : [ `);
  await writeUsers(out, options, 0, options.users, '  ');
  await write(out, ' ],\n  "keycloakVersion" : "26.0.0"\n}\n');
  await close(out);
}

/** `kc.sh export --dir D --realm R --users different_files`: `R-realm.json` and `R-users-N.json` of `usersPerFile` users each. */
export async function writeDirectoryExport(dir: string, options: GeneratedExportOptions & { readonly usersPerFile?: number }): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const perFile = options.usersPerFile ?? KEYCLOAK_USERS_PER_FILE;
  const realmFile = createWriteStream(join(dir, `${options.realm}-realm.json`));
  await write(realmFile, `${pretty({ ...(options.settings ?? generatedRealmSettings(options.realm)), keycloakVersion: '26.0.0' }, '')}\n`);
  await close(realmFile);
  for (let n = 0; n * perFile < options.users; n += 1) {
    const out = createWriteStream(join(dir, `${options.realm}-users-${n}.json`));
    await write(out, `{\n  "realm" : ${JSON.stringify(options.realm)},\n  "users" : [ `);
    await writeUsers(out, options, n * perFile, Math.min(options.users, (n + 1) * perFile), '  ');
    await write(out, ' ]\n}\n');
    await close(out);
  }
}
