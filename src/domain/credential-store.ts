/**
 * Where a realm's passwords live when they are not in our database: another
 * system that checks and sets them (Keycloak in sidecar mode). The account
 * service owns this interface; `store/keycloak` implements it. The service
 * keeps what is its own (lockout counters, the time of the last change for
 * revocation, audit events) in its `UserStore` as for any realm.
 */

/** A user as the credential store knows them. */
export interface ExternalUser {
  readonly id: string;
  readonly username: string;
  readonly email: string | undefined;
  readonly enabled: boolean;
  /** Keycloak's required actions, e.g. `UPDATE_PASSWORD` for a temporary password. */
  readonly requiredActions: readonly string[];
}

/** The answer to "is this the user's password?". */
export type PasswordCheck =
  | { readonly kind: 'valid' }
  | { readonly kind: 'invalid' }
  /** The store's own brute force detector has locked the user; it would not say whether the password is right. */
  | { readonly kind: 'locked'; readonly retryAfterSeconds: number };

/**
 * Checks and sets passwords kept elsewhere.
 *
 * Every method throws `StoreUnavailableError` when the store cannot be
 * reached or answers with a server error, so the service fails closed (503).
 */
export interface CredentialStore {
  /** The user with this id (the tokens' `sub`), or `null` when there is none. */
  findUser(id: string): Promise<ExternalUser | null>;
  /** Whether `password` is the user's password, leaving no session or other trace but the store's own failure count. */
  verify(user: ExternalUser, password: string): Promise<PasswordCheck>;
  /**
   * Make `password` the user's password; `temporary` asks them to choose a new one.
   * @throws InvalidPasswordError with the store's own policy's violation(s)
   */
  setPassword(user: ExternalUser, password: string, options: { readonly temporary: boolean }): Promise<void>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
}
