/**
 * `password-resources import-keycloak`: take over the users of a Keycloak
 * realm export (`kc.sh export --realm R --users same_file`, or one of the
 * `R-users-N.json` files of `--users different_files`) with their password
 * credentials as Keycloak hashed them. Each credential stays in its Keycloak
 * format until the user's first successful password check upgrades it.
 */
import { randomUUID } from 'node:crypto';
import { CredentialFormatError, parseKeycloakCredential } from '../domain/credential-formats';
import { parsePasswordPolicy } from '../domain/policy';
import { DuplicateUserError, UPDATE_PASSWORD } from '../domain/store';
import type { Credential, NewUser, UserStore } from '../domain/store';

/** The export as a whole cannot be imported (not a realm export, no realm name, no users list). */
export class KeycloakExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeycloakExportError';
  }
}

/** What an import reads from the export before touching the store. */
export interface KeycloakRealmExport {
  /** The export's `realm`: the users go into the realm of that name. */
  readonly realm: string;
  readonly users: readonly unknown[];
  /**
   * Realm settings of the export that the import does not apply, each as a
   * sentence saying where to set it (`passwordPolicy`, brute force detection).
   */
  readonly notApplied: readonly string[];
}

export interface SkippedUser {
  readonly id: string | undefined;
  readonly username: string | undefined;
  readonly reason: string;
}

export interface KeycloakImportReport {
  readonly realm: string;
  /** Users created by this run. */
  readonly imported: number;
  /** Users whose id was already in the realm: left alone, so a second run changes nothing. */
  readonly unchanged: number;
  /** Users this run cannot import, each with the reason. */
  readonly skipped: readonly SkippedUser[];
  readonly notApplied: readonly string[];
}

/**
 * Check the export's shape and read its realm name, users and the realm
 * settings it will not apply. Touches nothing.
 *
 * @throws KeycloakExportError naming what is wrong with the document.
 */
export function readKeycloakExport(document: unknown): KeycloakRealmExport {
  if (Array.isArray(document)) {
    throw new KeycloakExportError('the file holds a list of realms; export one realm (kc.sh export --realm R --users same_file) and import that');
  }
  if (!isRecord(document)) throw new KeycloakExportError('not a Keycloak realm export (expected a JSON object with "realm" and "users")');
  const realm = document.realm;
  if (typeof realm !== 'string' || realm === '') throw new KeycloakExportError('the export has no "realm" name');
  const users = document.users;
  if (users === undefined) {
    throw new KeycloakExportError(`realm "${realm}": the export has no "users" (export with --users same_file, or import the R-users-N.json files)`);
  }
  if (!Array.isArray(users)) throw new KeycloakExportError(`realm "${realm}": "users" is not a list`);
  return { realm, users: users as unknown[], notApplied: settingsNotApplied(document) };
}

/** Keycloak's brute force fields, under the names our `bruteForce` settings use (`maxDeltaTimeSeconds` is Keycloak's "failure reset time"). */
const BRUTE_FORCE_FIELDS = [
  ['failureFactor', 'failureFactor'],
  ['waitIncrementSeconds', 'waitIncrementSeconds'],
  ['maxFailureWaitSeconds', 'maxFailureWaitSeconds'],
  ['maxDeltaTimeSeconds', 'failureResetTimeSeconds'],
  ['quickLoginCheckMilliSeconds', 'quickLoginCheckMilliSeconds'],
  ['minimumQuickLoginWaitSeconds', 'minimumQuickLoginWaitSeconds'],
  ['permanentLockout', 'permanentLockout'],
  ['maxTemporaryLockouts', 'maxTemporaryLockouts'],
] as const;

/** How the export's policy reads here, as a hint for the operator, or why it cannot. */
function ourPolicy(theirs: string): string {
  try {
    return `, e.g. "${parsePasswordPolicy(theirs).source}"`;
  } catch (error) {
    return ` (not readable here: ${(error as Error).message})`;
  }
}

function settingsNotApplied(document: Readonly<Record<string, unknown>>): string[] {
  const notes: string[] = [];
  const realm = String(document.realm);
  if (typeof document.passwordPolicy === 'string' && document.passwordPolicy.trim() !== '') {
    notes.push(
      `realm "${realm}": password policy "${document.passwordPolicy}" not applied: set PASSWORD_POLICY or realms.${realm}.passwordPolicy in CONFIG_FILE${ourPolicy(document.passwordPolicy)}`,
    );
  }
  if (document.bruteForceProtected === true) {
    const settings: Record<string, unknown> = {};
    for (const [theirs, ours] of BRUTE_FORCE_FIELDS) {
      const value = document[theirs];
      if (typeof value === 'number' || typeof value === 'boolean') settings[ours] = value;
    }
    notes.push(`realm "${realm}": brute force detection ${JSON.stringify(settings)} not applied: set realms.${realm}.bruteForce in CONFIG_FILE`);
  } else if (document.bruteForceProtected === false) {
    notes.push(`realm "${realm}": brute force detection is off in Keycloak; this service's brute force settings apply to the imported users`);
  }
  return notes;
}

/**
 * Create each user of the export that the realm does not have yet, with its
 * Keycloak password credential as it is. Idempotent: a user whose id is in the
 * realm already is left alone and counted as unchanged. A user that cannot be
 * imported (no password credential, an unsupported algorithm, a username or
 * email another user has) is skipped with the reason, and the rest go on.
 * Creating a user is not a password change: `passwordChangedAt` stays unset,
 * so the user's tokens stay valid.
 *
 * @throws StoreUnavailableError when the database cannot be reached; errors
 *   other than a duplicate are not a user's problem and stop the import.
 */
export async function importKeycloakUsers(realmExport: KeycloakRealmExport, store: UserStore): Promise<KeycloakImportReport> {
  const { realm } = realmExport;
  let imported = 0;
  let unchanged = 0;
  const skipped: SkippedUser[] = [];

  for (const representation of realmExport.users) {
    const planned = planUser(realm, representation);
    if ('reason' in planned) {
      skipped.push(planned);
      continue;
    }
    if (await store.findById(realm, planned.id)) {
      unchanged += 1;
      continue;
    }
    try {
      await store.create(planned);
      imported += 1;
    } catch (error) {
      if (!(error instanceof DuplicateUserError)) throw error;
      if (error.field === 'id') {
        // Created by a concurrent run between our read and our write: the same outcome as finding it.
        unchanged += 1;
      } else {
        const value = error.field === 'email' ? planned.email : planned.username;
        skipped.push({ id: planned.id, username: planned.username, reason: `another user of realm "${realm}" has the ${error.field} "${value ?? ''}"` });
      }
    }
  }
  return { realm, imported, unchanged, skipped, notApplied: realmExport.notApplied };
}

/** `readKeycloakExport` then `importKeycloakUsers`. */
export async function importKeycloakExport(document: unknown, store: UserStore): Promise<KeycloakImportReport> {
  return importKeycloakUsers(readKeycloakExport(document), store);
}

/** The user to create from one `UserRepresentation`, or why it cannot be. */
function planUser(realm: string, representation: unknown): NewUser | SkippedUser {
  if (!isRecord(representation)) return { id: undefined, username: undefined, reason: 'not a user object' };
  const id = nonEmptyString(representation.id);
  const username = nonEmptyString(representation.username)?.toLowerCase();
  const skip = (reason: string): SkippedUser => ({ id, username, reason });
  if (id === undefined) return skip('no "id" (the subject its tokens carry)');
  if (username === undefined) return skip('no "username"');
  const client = nonEmptyString(representation.serviceAccountClientId);
  if (client !== undefined) return skip(`service account of client "${client}": it has no password`);

  const credentials = Array.isArray(representation.credentials) ? (representation.credentials as unknown[]).filter(isRecord) : [];
  const passwords = credentials.filter((credential) => credential.type === 'password');
  if (passwords.length === 0) {
    const others = credentials.map((credential) => String(credential.type));
    const federation = nonEmptyString(representation.federationLink);
    if (federation !== undefined) return skip(`no password credential: the user is federated (federationLink ${federation}), so the password is in that user storage`);
    return skip(`no password credential${others.length > 0 ? ` (has ${others.join(', ')})` : ''}`);
  }
  if (passwords.length > 1) return skip(`${passwords.length} password credentials; Keycloak keeps one per user`);
  const [password] = passwords;
  if (!password) return skip('no password credential');

  let credential: Credential;
  try {
    // parseKeycloakCredential checks each field's type, whatever the JSON held.
    // Keycloak's credential id carries over, so the admin API names it the same way.
    credential = { ...parseKeycloakCredential(password), id: typeof password.id === 'string' && password.id !== '' ? password.id : randomUUID() };
  } catch (error) {
    if (error instanceof CredentialFormatError) return skip(error.message);
    throw error;
  }

  const requiredActions = Array.isArray(representation.requiredActions)
    ? (representation.requiredActions as unknown[]).filter((action): action is string => typeof action === 'string' && action !== '')
    : [];
  // A temporary password (admin API representations have the flag) is Keycloak's UPDATE_PASSWORD.
  if (password.temporary === true) requiredActions.push(UPDATE_PASSWORD);

  return {
    realm,
    id,
    username,
    email: nonEmptyString(representation.email)?.toLowerCase(),
    // Keycloak imports a user without "enabled" as disabled; so do we.
    enabled: representation.enabled === true,
    credential,
    requiredActions: [...new Set(requiredActions)],
  };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
