/**
 * What the account service needs from storage. The service owns this interface;
 * `store/mongoose` is the implementation shipped. Every method that writes is a
 * single-document atomic operation.
 */

import type { DatabaseBudget } from './database-budget';
import type { CountedFailure } from './lockout';

/**
 * The hashing scheme that made a stored credential: `argon2` (ours as a PHC
 * string in `hash`; Keycloak's with `salt` and `parameters`), `bcrypt-sha256`
 * (ours), `pbkdf2`, `pbkdf2-sha256`, `pbkdf2-sha512` (Keycloak's layout, ours
 * or imported), or plain `bcrypt` (`$2a$`/`$2b$`/`$2y$`, as Auth0 and many
 * apps export). One that differs from the realm's scheme is re-made on the
 * next right password.
 */
export type CredentialAlgorithm = 'bcrypt-sha256' | 'bcrypt' | 'pbkdf2' | 'pbkdf2-sha256' | 'pbkdf2-sha512' | 'argon2';

/** A stored password credential: never the password itself. */
export interface Credential {
  /** Stable while the password stays the same (a re-hash keeps it); Keycloak's credential id for imported ones. */
  readonly id?: string | undefined;
  readonly algorithm: CredentialAlgorithm;
  /**
   * For bcrypt schemes the encoded hash (salt and cost inside); for our argon2
   * the PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`); for Keycloak's
   * layout the standard-base64 derived key, as Keycloak's `secretData.value`.
   */
  readonly hash: string;
  /** Standard base64, for Keycloak's schemes (`secretData.salt`). */
  readonly salt?: string | undefined;
  /**
   * The scheme's parameters, for Keycloak's schemes: `iterations` (pbkdf2 and
   * argon2), and for argon2 `type` (`id`, `i`, `d`), `version` (`1.3`),
   * `memory` (KiB), `parallelism`, `hashLength` (bytes).
   */
  readonly parameters?: Readonly<Record<string, string | number>> | undefined;
  readonly createdAt: Date;
  /** Set by an administrator as temporary: the user must choose a new one. */
  readonly temporary?: boolean | undefined;
  /** A temporary password no longer validates from this instant. */
  readonly expiresAt?: Date | undefined;
}

/** The Keycloak required action that asks a user to choose a new password. */
export const UPDATE_PASSWORD = 'UPDATE_PASSWORD';

/** A user of one realm, as the store returns it. */
export interface UserRecord {
  readonly realm: string;
  /** The identity provider's subject (`sub`) for this user. */
  readonly id: string;
  /** Lower-case, unique within the realm. */
  readonly username: string;
  /** Lower-case, unique within the realm when set. */
  readonly email: string | undefined;
  readonly emailVerified: boolean;
  readonly firstName: string | undefined;
  readonly lastName: string | undefined;
  /** The language of mails to the user (Keycloak's `locale` attribute). */
  readonly locale: string | undefined;
  /** Keycloak's other user attributes, each a list of values; `locale` is the field above. */
  readonly attributes: UserAttributes;
  readonly enabled: boolean;
  readonly credential: Credential | undefined;
  /** Earlier credentials, newest last, kept for `passwordHistory`: hashes only. */
  readonly previousCredentials: readonly Credential[];
  /** When the password was last changed; creating or importing a user is not a change. */
  readonly passwordChangedAt: Date | undefined;
  readonly requiredActions: readonly string[];
  /** The brute force detector's state, when the user has failed recently. */
  readonly loginFailures: LoginFailures | undefined;
  readonly createdAt: Date;
}

/** User attributes in Keycloak's shape: a name and its values, in order. */
export type UserAttributes = Readonly<Record<string, readonly string[]>>;

/** Counters of wrong passwords, kept per user and shared by every instance. */
export interface LoginFailures {
  /** Failures of the series, the guesses reserved and not yet judged among them. */
  readonly count: number;
  readonly lastFailureAt: Date | undefined;
  readonly lockedUntil: Date | undefined;
  readonly temporaryLockouts: number;
  /**
   * Guesses that may still be reserved before the next lockout; `undefined`
   * in a record written before reservations existed.
   */
  readonly remaining: number | undefined;
}

/** What `UserStore.reserveAttempt` is asked. */
export interface AttemptRequest {
  readonly now: Date;
  /** A series whose last failure is before this starts again. */
  readonly resetBefore: Date;
  /** The realm's `failureFactor`: guesses per lockout. */
  readonly budget: number;
  /**
   * The series as the caller read it a moment ago (its `UserRecord`'s
   * `loginFailures`): a store may write on that assumption first and save a
   * read. Every such write is conditional on it, and one that finds otherwise
   * reads and decides again, so a stale value costs a round trip, never a guess.
   */
  readonly known?: { readonly failures: LoginFailures | undefined };
}

/** What `UserStore.reserveAttempt` found. */
export type AttemptReservation =
  /** The guess was counted as `failure`, before its hash; a right password clears it. */
  | { readonly kind: 'reserved'; readonly failure: CountedFailure }
  /** Locked until then: nothing may be tried. */
  | { readonly kind: 'locked'; readonly until: Date }
  /** Every guess of the budget is reserved by guesses not yet judged (or whose judge never wrote). */
  | { readonly kind: 'exhausted'; readonly failures: LoginFailures };

/** What follows a wrong guess: a lock, written only while the series still holds that guess. */
export interface FailureLock {
  readonly until: Date;
  /** One more temporary lockout (reached by `failureFactor`, not by a quick second failure). */
  readonly counts: boolean;
  /** The guess's place in its series: nothing is written once a right password cleared it. */
  readonly count: number;
  /** Guesses allowed again when the lock ends, when it `counts`. */
  readonly budget: number;
}

/** What it takes to create a user. */
export interface NewUser {
  readonly realm: string;
  readonly id: string;
  readonly username: string;
  readonly email?: string | undefined;
  readonly emailVerified?: boolean | undefined;
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly locale?: string | undefined;
  readonly attributes?: UserAttributes | undefined;
  readonly enabled: boolean;
  readonly credential?: Credential | undefined;
  /** Earlier credentials, oldest first (an import's password history). */
  readonly previousCredentials?: readonly Credential[] | undefined;
  readonly requiredActions: readonly string[];
  /** When the user was created elsewhere (an import); default now. */
  readonly createdAt?: Date | undefined;
}

/** What `UserStore.insertMany` did with each user of the batch. */
export interface BulkInsertResult {
  readonly inserted: number;
  /** Users not inserted, by position in the batch, and the unique key another user of the realm holds. */
  readonly duplicates: readonly { readonly index: number; readonly field: DuplicateUserError['field'] }[];
}

/** What an administrator may change of a user; absent fields stay, `null` removes an optional one. */
export interface UserPatch {
  readonly username?: string;
  readonly email?: string | null;
  readonly emailVerified?: boolean;
  readonly firstName?: string | null;
  readonly lastName?: string | null;
  readonly locale?: string | null;
  /** Replaces all other attributes (`{}` removes them). */
  readonly attributes?: UserAttributes;
  readonly enabled?: boolean;
  readonly requiredActions?: readonly string[];
  /** Forget the brute force detector's state in the same write. */
  readonly clearFailures?: boolean;
}

/** How one field is matched: the value contained in it, or (exact) equal to it; case-insensitive. */
export interface FieldMatch {
  readonly value: string;
  readonly mode: 'exact' | 'prefix' | 'infix';
}

/** Which users `find` and `count` return; all given conditions must hold. */
export interface UserFilter {
  readonly username?: FieldMatch;
  readonly email?: FieldMatch;
  readonly firstName?: FieldMatch;
  readonly lastName?: FieldMatch;
  /** Matches username, email, first or last name. */
  readonly any?: FieldMatch;
  readonly enabled?: boolean;
  readonly emailVerified?: boolean;
}

/** A compare-and-set of a user's credential. */
export interface CredentialChange {
  readonly realm: string;
  readonly id: string;
  /** The hash being replaced, or `null` when the user has no credential yet. */
  readonly expectedHash: string | null;
  readonly next: Credential;
  readonly changedAt: Date;
  readonly requiredActions: readonly string[];
  /** Keep the replaced credential among the previous ones, at most `keep` of them, in the same write. */
  readonly history?: { readonly previous: Credential; readonly keep: number };
}

/** A compare-and-set that re-makes the same password in the current scheme: not a change (no revocation). */
export interface CredentialRehash {
  readonly realm: string;
  readonly id: string;
  readonly expectedHash: string;
  readonly next: Credential;
}

/** Thrown by `UserStore.create` when the username or email is taken in the realm. */
export class DuplicateUserError extends Error {
  constructor(readonly field: 'username' | 'email' | 'id') {
    super(`A user with this ${field} already exists in the realm.`);
    this.name = 'DuplicateUserError';
  }
}

/** Thrown by any store method when the database cannot be reached. */
export class StoreUnavailableError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('The credential store cannot be reached.', options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Thrown when a user's stored credential cannot be checked at all (a corrupted
 * hash, an unknown scheme, broken parameters): an integrity failure of our
 * data, never a wrong password, so it counts as no failed guess. The message
 * names the user, never the hash.
 */
export class StoredCredentialError extends Error {
  constructor(readonly realm: string, readonly userId: string, options: { cause: unknown }) {
    super(`The stored credential of user "${userId}" in realm "${realm}" cannot be checked (corrupted or unsupported); the user cannot sign in until it is repaired or reset.`, options);
    this.name = 'StoredCredentialError';
  }
}

/** Storage of users and their credentials. */
export interface UserStore {
  /** Create the indexes the guarantees rest on; call once before use. */
  init(): Promise<void>;
  findById(realm: string, id: string): Promise<UserRecord | null>;
  findByUsername(realm: string, username: string): Promise<UserRecord | null>;
  /** @throws DuplicateUserError when the id, username or email is taken in the realm. */
  create(user: NewUser): Promise<UserRecord>;
  /**
   * Create many users in one round trip, in no particular order: each is
   * created or, when its id, username or email is taken, reported, and the
   * others go on. Each insert is atomic on its own; a failure of the
   * database part-way leaves the users inserted before it.
   */
  insertMany(users: readonly NewUser[]): Promise<BulkInsertResult>;
  /** Those of `ids` that the realm has users of. */
  existingIds(realm: string, ids: readonly string[]): Promise<Set<string>>;
  /**
   * Replace the credential only if the stored one is still `expectedHash`.
   * @returns whether this call won; `false` means a concurrent change did.
   */
  compareAndSetCredential(change: CredentialChange): Promise<boolean>;
  /**
   * Replace the credential by the same password in the current scheme, only if
   * the stored one is still `expectedHash`; nothing else changes.
   * @returns whether this call won.
   */
  rehashCredential(rehash: CredentialRehash): Promise<boolean>;
  /**
   * Reserve one guess of the user's budget in one atomic write, before its
   * hash: it counts as a failure from now on (a series whose last failure is
   * before `resetBefore` starts again at 1), unless the user is locked or the
   * budget is spent. However many instances ask at once, at most `budget`
   * guesses are reserved between two lockouts.
   * @returns `null` for an unknown user.
   */
  reserveAttempt(realm: string, id: string, request: AttemptRequest): Promise<AttemptReservation | null>;
  /** Give back a reserved guess whose hash never ran (shed, or its caller went away); nothing once the series was cleared. */
  releaseAttempt(realm: string, id: string, count: number): Promise<void>;
  /**
   * Give the budget back to a series whose guesses were all reserved and whose
   * lock never came (the instance judging the last one stopped), if its last
   * failure is still `lastFailureAt`.
   */
  refillAttempts(realm: string, id: string, lastFailureAt: Date, budget: number): Promise<void>;
  /** Lock until `lock.until` (never shortening a longer lock) while the series holds failure `lock.count`. */
  lockTemporarily(realm: string, id: string, lock: FailureLock): Promise<void>;
  /**
   * Take the user's password-change lease, `lease` until `until`, unless
   * another request holds one that has not run out: one change per user at a
   * time, whatever the instance.
   * @returns whether this call took it (`false` too for an unknown user).
   */
  takeChangeLease(realm: string, id: string, lease: string, now: Date, until: Date): Promise<boolean>;
  /** Give the lease back, if `lease` still holds it. */
  releaseChangeLease(realm: string, id: string, lease: string): Promise<void>;
  /** Permanent lockout: disable the user until an administrator enables them. */
  disable(realm: string, id: string): Promise<void>;
  /** Forget the failures after a success; writes nothing when there are none. */
  clearFailures(realm: string, id: string): Promise<void>;
  /** Users of the realm matching `filter`, by username, `first` skipped, at most `max`. */
  find(realm: string, filter: UserFilter, page: { readonly first: number; readonly max: number }): Promise<UserRecord[]>;
  count(realm: string, filter: UserFilter): Promise<number>;
  /**
   * Apply an administrator's change.
   * @returns the user after it, or `null` for an unknown user.
   * @throws DuplicateUserError when the new username or email is taken in the realm.
   */
  update(realm: string, id: string, patch: UserPatch): Promise<UserRecord | null>;
  /** @returns whether there was such a user. */
  delete(realm: string, id: string): Promise<boolean>;
  /**
   * Remove the password, only if it is still `expectedHash`; a change, so
   * `changedAt` becomes the password change time (tokens before it are refused).
   * @returns whether this call won.
   */
  removeCredential(realm: string, id: string, expectedHash: string, changedAt: Date): Promise<boolean>;
  /**
   * Note a password change made in an external credential store (sidecar
   * mode), where our database keeps no credential: `changedAt` becomes the
   * last change (tokens before it are refused; never moved back) and
   * `requiredActions` replace the user's, in one write.
   * @returns whether there was such a user.
   */
  recordPasswordChange(realm: string, id: string, changedAt: Date, requiredActions: readonly string[]): Promise<boolean>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  /**
   * This store for one request: each operation takes at most what is left of
   * the request's `budget` (and spends what it waits) and throws
   * `StoreUnavailableError` when it runs out, so no request waits on the
   * database longer than its budget.
   */
  within(budget: DatabaseBudget): UserStore;
}
