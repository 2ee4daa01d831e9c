/**
 * `password-resources import-keycloak`: take over the users of a Keycloak
 * realm export with their credentials as Keycloak stored them (password,
 * password history, required actions, enabled, email verification, created
 * time, attributes). Nothing is hashed on import: each credential stays in
 * its Keycloak format until the user's first successful check re-hashes it.
 *
 * The export is read as a stream and written in unordered batches, so memory
 * stays flat in the number of users. Each insert is atomic and keyed on the
 * user's id, so a second run changes nothing and a run after an interruption
 * finishes the work.
 */
import { randomUUID } from 'node:crypto';
import { CredentialFormatError, parseKeycloakCredential } from '../domain/credential-formats';
import { UPDATE_PASSWORD } from '../domain/store';
import type { Credential, NewUser, UserAttributes, UserStore } from '../domain/store';
import type { KeycloakExport } from './keycloak-export';
export type { KeycloakExport } from './keycloak-export';
import { attributeLimits } from './attribute-limits';
import type { AttributeCheck } from './attribute-limits';
import { readRealmSettings } from './realm-settings';
import type { RealmConfigEntry } from './realm-settings';

export { KeycloakExportError, openKeycloakExport } from './keycloak-export';

/**
 * Users per `insertMany`. Measured with `npm run bench:import` on the 2-core
 * machine against SecantusDB (Rust): see CHANGELOG/README for the table.
 */
export const DEFAULT_BATCH_SIZE = 1_000;
/**
 * A batch ends at this many bytes of the export's JSON even before
 * `batchSize` users, so that a realm of large users (many attributes) keeps
 * the import's memory as bounded as one of small ones. 4 MiB is about 2,000
 * users of `npm run bench:import`'s export: the default batch is not cut.
 */
export const MAX_BATCH_BYTES = 4 * 2 ** 20;
/** Batches written at once: one being written while the next is read. */
export const BATCHES_IN_FLIGHT = 2;
/** Skipped users listed in the report; the rest are counted (each is also reported as it happens). */
export const MAX_LISTED_SKIPPED = 1_000;

export interface SkippedUser {
  /** Where the user stands in the export: `users[12]`, or `acme-users-3.json users[12]`. */
  readonly position: string;
  readonly id: string | undefined;
  readonly username: string | undefined;
  readonly reason: string;
}

export interface KeycloakImportReport {
  readonly realm: string;
  readonly layout: KeycloakExport['layout'];
  /** Users created by this run. */
  readonly imported: number;
  /** Users whose id was in the realm already: left alone, so a second run changes nothing. */
  readonly unchanged: number;
  /** Users this run cannot import. */
  readonly skipped: number;
  /** The first {@link MAX_LISTED_SKIPPED} of them, each with its position and the reason. */
  readonly skippedUsers: readonly SkippedUser[];
  /** The realm's entry of CONFIG_FILE for the settings we have equivalents of. */
  readonly config: RealmConfigEntry;
  /** What the export holds that is not carried over, one sentence each. */
  readonly notCarriedOver: readonly string[];
  /** The run stopped before the end of the export (Ctrl-C): run it again to finish. */
  readonly interrupted: boolean;
  readonly seconds: number;
}

export interface ImportProgress {
  readonly imported: number;
  readonly unchanged: number;
  readonly skipped: number;
  readonly bytesRead: number;
}

export interface ImportOptions {
  readonly batchSize?: number;
  /** Called after each batch is written. */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Called for each skipped user as it is met. */
  readonly onSkipped?: (user: SkippedUser) => void;
  /** Stop taking users; the batches being written finish, and the report says `interrupted`. */
  readonly signal?: AbortSignal;
}

/** What the users hold that is not carried over, counted across the import. */
class Leftovers {
  readonly #counts = new Map<string, number>();

  add(what: string): void {
    this.#counts.set(what, (this.#counts.get(what) ?? 0) + 1);
  }

  sentences(realm: string): string[] {
    return [...this.#counts].map(([what, n]) => `realm "${realm}": ${n} user(s) with ${what}`);
  }
}

interface PlannedUser {
  readonly position: string;
  readonly user: NewUser;
}

/** Writes batches, {@link BATCHES_IN_FLIGHT} at once, and counts what became of each user. */
class BatchWriter {
  imported = 0;
  unchanged = 0;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly store: UserStore,
    private readonly realm: string,
    private readonly skip: (user: SkippedUser) => void,
    private readonly onWritten: () => void,
  ) {}

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Start writing `batch`; resolves once fewer than BATCHES_IN_FLIGHT writes are running. */
  async send(batch: readonly PlannedUser[]): Promise<void> {
    const written: Promise<void> = this.#write(batch).then(
      () => {
        this.#inFlight.delete(written);
      },
      (error: unknown) => {
        this.#inFlight.delete(written);
        this.#failure ??= { error };
      },
    );
    this.#inFlight.add(written);
    if (this.#inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(this.#inFlight);
  }

  /** Wait for every write; the first that failed fails this. */
  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
    if (this.#failure) throw this.#failure.error;
  }

  async #write(batch: readonly PlannedUser[]): Promise<void> {
    const result = await this.store.insertMany(batch.map((planned) => planned.user));
    this.imported += result.inserted;
    // A taken username or email may be this very user, imported by an earlier run: its id says.
    const clashes = result.duplicates.filter((duplicate) => duplicate.field !== 'id');
    const present = clashes.length === 0 ? new Set<string>() : await this.store.existingIds(this.realm, clashes.map((duplicate) => batch[duplicate.index]?.user.id ?? ''));
    for (const duplicate of result.duplicates) {
      const planned = batch[duplicate.index];
      if (!planned) continue;
      const { user } = planned;
      if (duplicate.field === 'id' || present.has(user.id)) {
        this.unchanged += 1;
        continue;
      }
      const value = duplicate.field === 'email' ? user.email : user.username;
      this.skip({ position: planned.position, id: user.id, username: user.username, reason: `another user of realm "${this.realm}" has the ${duplicate.field} "${value ?? ''}"` });
    }
    this.onWritten();
  }
}

/**
 * Import the users of `source` into the realm it names. The realm is read and
 * checked before the first write (`source.realm()`); a database failure
 * part-way stops the import with the users written so far kept.
 *
 * @throws KeycloakExportError when the export is not a realm export (before
 *   any write) or breaks off (after the users before the break)
 * @throws StoreUnavailableError when the database cannot be reached
 */
export async function importKeycloakExport(source: KeycloakExport, store: UserStore, options: ImportOptions = {}): Promise<KeycloakImportReport> {
  const started = performance.now();
  const realm = await source.realm();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const leftovers = new Leftovers();
  const checkAttributes = attributeLimits();
  let skipped = 0;
  const skippedUsers: SkippedUser[] = [];
  const skip = (user: SkippedUser): void => {
    skipped += 1;
    if (skippedUsers.length < MAX_LISTED_SKIPPED) skippedUsers.push(user);
    options.onSkipped?.(user);
  };

  const writer = new BatchWriter(store, realm, skip, () => {
    options.onProgress?.({ imported: writer.imported, unchanged: writer.unchanged, skipped, bytesRead: source.bytesRead() });
  });

  let batch: PlannedUser[] = [];
  let batchBytes = 0;
  let interrupted = false;
  let brokenOff: { error: unknown } | undefined;
  try {
    for await (const exported of source.users()) {
      if (writer.failed) break;
      if (options.signal?.aborted === true) {
        interrupted = true;
        break;
      }
      const planned = exported.error === undefined ? planUser(realm, exported.value, leftovers, checkAttributes) : { id: undefined, username: undefined, reason: exported.error };
      if ('reason' in planned) {
        skip({ position: exported.position, ...planned });
        continue;
      }
      batch.push({ position: exported.position, user: planned });
      batchBytes += exported.bytes;
      if (batch.length >= batchSize || batchBytes >= MAX_BATCH_BYTES) {
        await writer.send(batch);
        batch = [];
        batchBytes = 0;
      }
    }
  } catch (error) {
    // The export breaks off: the users read before the break still go in.
    brokenOff = { error };
  }
  if (!writer.failed && !interrupted && batch.length > 0) await writer.send(batch);
  await writer.drain();
  if (brokenOff) throw brokenOff.error;

  const settings = readRealmSettings(realm, source.settings);
  return {
    realm,
    layout: source.layout,
    imported: writer.imported,
    unchanged: writer.unchanged,
    skipped,
    skippedUsers,
    config: settings.config,
    notCarriedOver: [...settings.notCarriedOver, ...leftovers.sentences(realm)],
    interrupted,
    seconds: (performance.now() - started) / 1000,
  };
}

type Plan = NewUser | Omit<SkippedUser, 'position'>;

/** The user to create from one `UserRepresentation`, or why it cannot be. */
function planUser(realm: string, representation: unknown, leftovers: Leftovers, checkAttributes: AttributeCheck): Plan {
  if (!isRecord(representation)) return { id: undefined, username: undefined, reason: 'not a user object' };
  const id = nonEmptyString(representation.id);
  const username = nonEmptyString(representation.username)?.toLowerCase();
  const skip = (reason: string): Plan => ({ id, username, reason });
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
    credential = { ...parseKeycloakCredential(password), id: nonEmptyString(password.id) ?? randomUUID() };
  } catch (error) {
    if (error instanceof CredentialFormatError) return skip(error.message);
    throw error;
  }

  const attributes = readAttributes(representation.attributes);
  if (typeof attributes === 'string') return skip(attributes);
  const beyondLimits = checkAttributes(attributes);
  if (beyondLimits !== undefined) return skip(beyondLimits);
  const created = representation.createdTimestamp;
  if (created !== undefined && (typeof created !== 'number' || !Number.isFinite(created))) return skip(`createdTimestamp must be milliseconds since the epoch, got ${JSON.stringify(created)}`);

  const previousCredentials = passwordHistory(credentials, leftovers);
  tallyLeftovers(realm, representation, credentials, leftovers);
  const { locale: locales, ...others } = attributes;

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
    emailVerified: representation.emailVerified === true,
    firstName: nonEmptyString(representation.firstName),
    lastName: nonEmptyString(representation.lastName),
    locale: locales?.[0],
    attributes: others,
    // Keycloak imports a user without "enabled" as disabled; so do we.
    enabled: representation.enabled === true,
    credential,
    previousCredentials,
    requiredActions: [...new Set(requiredActions)],
    ...(typeof created === 'number' ? { createdAt: new Date(created) } : {}),
  };
}

/** Keycloak's password history: earlier passwords, oldest first, each as Keycloak stored it. */
function passwordHistory(credentials: readonly Record<string, unknown>[], leftovers: Leftovers): Credential[] {
  const previous: Credential[] = [];
  for (const earlier of credentials.filter((c) => c.type === 'password-history')) {
    try {
      previous.push({ ...parseKeycloakCredential({ ...earlier, type: 'password' }), id: nonEmptyString(earlier.id) ?? randomUUID() });
    } catch (error) {
      if (!(error instanceof CredentialFormatError)) throw error;
      leftovers.add(`a password-history credential not readable here (${error.message})`);
    }
  }
  return previous.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/** Count what the user holds that is not carried over. */
function tallyLeftovers(realm: string, representation: Readonly<Record<string, unknown>>, credentials: readonly Record<string, unknown>[], leftovers: Leftovers): void {
  for (const other of credentials) {
    if (other.type !== 'password' && other.type !== 'password-history') leftovers.add(`a credential of type ${String(other.type)}`);
  }
  if (nonEmptyString(representation.federationLink) !== undefined) leftovers.add('a federation link (the password here is the one in the export)');
  if (Array.isArray(representation.federatedIdentities) && representation.federatedIdentities.length > 0) leftovers.add('identity-provider links');
  if (Array.isArray(representation.groups) && representation.groups.length > 0) leftovers.add('group memberships');
  const roles = Array.isArray(representation.realmRoles) ? representation.realmRoles.filter((role) => role !== `default-roles-${realm}`) : [];
  if (roles.length > 0 || (isRecord(representation.clientRoles) && Object.keys(representation.clientRoles).length > 0)) leftovers.add('role mappings');
}

/** Keycloak's attribute map, `{"name": ["value", ...]}`, or why it is not one. */
function readAttributes(value: unknown): UserAttributes | string {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return '"attributes" is not an object of lists of strings';
  const attributes: Record<string, readonly string[]> = {};
  for (const [name, values] of Object.entries(value)) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) return `attributes.${name} is not a list of strings`;
    Object.defineProperty(attributes, name, { value: values, enumerable: true, writable: true, configurable: true });
  }
  return attributes;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
