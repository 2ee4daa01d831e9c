/**
 * What the account service needs from storage. The service owns this interface;
 * `store/mongoose` is the implementation shipped. Every method that writes is a
 * single-document atomic operation.
 */

/** The hashing scheme that made a stored credential. */
export type CredentialAlgorithm = 'bcrypt-sha256';

/** A stored password credential: never the password itself. */
export interface Credential {
  readonly algorithm: CredentialAlgorithm;
  /** The encoded hash, including its salt and cost. */
  readonly hash: string;
  readonly createdAt: Date;
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
  readonly enabled: boolean;
  readonly credential: Credential | undefined;
  /** When the password was last changed; creating or importing a user is not a change. */
  readonly passwordChangedAt: Date | undefined;
  readonly requiredActions: readonly string[];
  readonly createdAt: Date;
}

/** What it takes to create a user. */
export interface NewUser {
  readonly realm: string;
  readonly id: string;
  readonly username: string;
  readonly email?: string | undefined;
  readonly enabled: boolean;
  readonly credential?: Credential | undefined;
  readonly requiredActions: readonly string[];
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

/** Storage of users and their credentials. */
export interface UserStore {
  /** Create the indexes the guarantees rest on; call once before use. */
  init(): Promise<void>;
  findById(realm: string, id: string): Promise<UserRecord | null>;
  findByUsername(realm: string, username: string): Promise<UserRecord | null>;
  /** @throws DuplicateUserError when the id, username or email is taken in the realm. */
  create(user: NewUser): Promise<UserRecord>;
  /**
   * Replace the credential only if the stored one is still `expectedHash`.
   * @returns whether this call won; `false` means a concurrent change did.
   */
  compareAndSetCredential(change: CredentialChange): Promise<boolean>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
}
