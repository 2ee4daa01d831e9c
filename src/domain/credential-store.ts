/**
 * Where a realm's passwords live: our own database (`LocalCredentialStore`)
 * or another system that checks and sets them (Keycloak in sidecar mode,
 * `store/keycloak`). The account service owns this interface and uses it for
 * every realm; what is its own (lockout counters, the time of the last change
 * for revocation, audit events) it keeps in its `UserStore` whatever the
 * realm's credential store.
 */

import type { PolicyViolation } from '../errors';

/** A user as a credential store knows them; `UserRecord` is one. */
export interface CredentialUser {
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

/** How `verify` checks a password. */
export interface VerifyOptions {
  readonly toReplace: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** How `setPassword` sets a password. */
export interface SetPasswordOptions {
  /** The user must choose a new one: `UPDATE_PASSWORD` is added to their required actions, and removed otherwise. */
  readonly temporary: boolean;
  /** A temporary password stops validating at this instant (for stores that can; others refuse). */
  readonly expiresAt?: Date | undefined;
}

/**
 * Checks and sets a realm's passwords. `User` is what the store returns for a
 * user: a snapshot that its other methods take back.
 *
 * Every method throws `StoreUnavailableError` when the store cannot be
 * reached or answers with a server error, so the service fails closed (503).
 */
export interface CredentialStore<User extends CredentialUser = CredentialUser> {
  /** The user with this id (the tokens' `sub`), enabled or not, or `null` when there is none. */
  findUser(id: string): Promise<User | null>;
  /**
   * Whether `password` is the user's password, leaving no session or other
   * trace but the store's own failure count. `toReplace`: the caller sets a
   * new password next, so a store that upgrades how it keeps a right
   * password (ours) need not. `signal` aborts when the caller no longer
   * wants the answer (its client went away): work not yet begun is dropped.
   */
  verify(user: User, password: string, options: VerifyOptions): Promise<PasswordCheck>;
  /**
   * The store's own rules against reusing a password that `password` breaks
   * for this user, where the store can tell before setting it (ours remembers
   * earlier hashes), so they are reported with the realm policy's; a store
   * that can tell only when setting (Keycloak) answers none here and throws
   * from `setPassword`. `includeCurrent: false` leaves out the current password.
   */
  reuseViolations(user: User, password: string, options: { readonly includeCurrent: boolean }): Promise<PolicyViolation[]>;
  /**
   * Make `password` the user's password; call `reuseViolations` first.
   * @throws InvalidPasswordError with the store's own policy's violation(s)
   * @throws ConflictError when the store can tell the password changed since `user` was read
   */
  setPassword(user: User, password: string, options: SetPasswordOptions): Promise<void>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
}
