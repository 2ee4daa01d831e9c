import { ConflictError, InvalidRequestError, NotFoundError, PasswordResourcesError, UserNotFoundError } from '../errors';
import { guard } from './account-service';
import type { AccountService, CreateUserInput } from './account-service';
import type { AdminActor, AdminEventSink, AdminOperation } from './events';
import { generatePassword, PasswordGenerationError } from './password-generator';
import type { PasswordPolicy } from './policy';
import { DuplicateUserError } from './store';
import type { Credential, UserFilter, UserPatch, UserRecord, UserStore } from './store';

/** What the admin service is built from. */
export interface AdminServiceDependencies {
  readonly store: UserStore;
  readonly accounts: AccountService;
  readonly policyOf: (realm: string) => PasswordPolicy;
  /** Where admin events go. Default: nowhere. */
  readonly events?: AdminEventSink;
  readonly now?: () => Date;
}

/** An administrator's password reset (Keycloak's CredentialRepresentation, plus our extensions). */
export interface AdminPasswordReset {
  /** The new password; absent when `generate`. */
  readonly value?: string | undefined;
  /** Make a random password that meets the policy and return it (Authgear's "Generate"). */
  readonly generate?: boolean | undefined;
  readonly temporary: boolean;
  /** Seconds after which a temporary password no longer validates. */
  readonly temporaryExpiresIn?: number | undefined;
}

/** The brute force detector's view of a user, as Keycloak's attack detection reports it. */
export interface BruteForceStatus {
  readonly numFailures: number;
  readonly numTemporaryLockouts: number;
  /** Locked out now: temporarily, or disabled by a permanent lockout. */
  readonly disabled: boolean;
  readonly lastFailure: Date | undefined;
  readonly lockedUntil: Date | undefined;
}

/**
 * The administrator's use cases, in Keycloak's terms: users, their password
 * and credential, the brute force detector. Every change is an admin event;
 * every lookup is within one realm, so an admin of one realm never reaches
 * another's users.
 */
export class AdminService {
  readonly #store: UserStore;
  readonly #accounts: AccountService;
  readonly #policyOf: (realm: string) => PasswordPolicy;
  readonly #events: AdminEventSink;
  readonly #now: () => Date;

  constructor(dependencies: AdminServiceDependencies) {
    this.#store = dependencies.store;
    this.#accounts = dependencies.accounts;
    this.#policyOf = dependencies.policyOf;
    this.#events = dependencies.events ?? { recordAdmin: () => Promise.resolve() };
    this.#now = dependencies.now ?? (() => new Date());
  }

  /** @throws UserNotFoundError naming the realm looked in. */
  async getUser(realm: string, id: string): Promise<UserRecord> {
    const user = await guard(this.#store.findById(realm, id));
    if (!user) throw new UserNotFoundError(realm);
    return user;
  }

  async findUsers(realm: string, filter: UserFilter, page: { first: number; max: number }): Promise<UserRecord[]> {
    return guard(this.#store.find(realm, filter, page));
  }

  async countUsers(realm: string, filter: UserFilter): Promise<number> {
    return guard(this.#store.count(realm, filter));
  }

  /** @throws InvalidPasswordError, ConflictError */
  async createUser(input: CreateUserInput & { realm: string }, actor: AdminActor): Promise<UserRecord> {
    return this.#audited(input.realm, actor, 'CREATE', 'USER', () => 'users', async () => {
      const user = await this.#accounts.createUser(input);
      return { result: user, path: `users/${user.id}` };
    });
  }

  /**
   * Change what the patch names. Enabling a user forgets their login
   * failures, as Keycloak does, so a user disabled by a permanent lockout can
   * sign in again.
   *
   * @throws UserNotFoundError, ConflictError
   */
  async updateUser(realm: string, id: string, patch: UserPatch, actor: AdminActor): Promise<UserRecord> {
    return this.#audited(realm, actor, 'UPDATE', 'USER', () => `users/${id}`, async () => {
      const effective: UserPatch = {
        ...patch,
        ...(patch.username === undefined ? {} : { username: patch.username.toLowerCase() }),
        ...(patch.email === undefined || patch.email === null ? {} : { email: patch.email.toLowerCase() }),
        ...(patch.enabled === true ? { clearFailures: true } : {}),
      };
      try {
        const user = await guard(this.#store.update(realm, id, effective));
        if (!user) throw new UserNotFoundError(realm);
        return { result: user };
      } catch (error) {
        if (error instanceof DuplicateUserError) throw new ConflictError(`A user with this ${error.field} already exists in realm "${realm}".`, { cause: error });
        throw error;
      }
    });
  }

  /** @throws UserNotFoundError */
  async deleteUser(realm: string, id: string, actor: AdminActor): Promise<void> {
    await this.#audited(realm, actor, 'DELETE', 'USER', () => `users/${id}`, async () => {
      if (!(await guard(this.#store.delete(realm, id)))) throw new UserNotFoundError(realm);
      return { result: undefined };
    });
  }

  /**
   * Set the user's password as Keycloak's `reset-password` does, with the
   * realm's policy and history. A password change: tokens issued before it
   * are refused afterwards.
   *
   * @returns the generated password when `generate`, once; never stored or logged.
   * @throws UserNotFoundError, InvalidRequestError, InvalidPasswordError, ConflictError
   */
  async resetPassword(realm: string, id: string, reset: AdminPasswordReset, actor: AdminActor): Promise<string | undefined> {
    return this.#audited(realm, actor, 'ACTION', 'USER', () => `users/${id}/reset-password`, async () => {
      if (reset.temporaryExpiresIn !== undefined && !reset.temporary) {
        throw new InvalidRequestError('temporaryExpiresIn applies to temporary passwords only; add "temporary": true.');
      }
      if ((reset.generate === true) === (reset.value !== undefined)) {
        throw new InvalidRequestError('Give either "value" or "generate": true.');
      }
      const user = await this.getUser(realm, id);
      let password = reset.value;
      if (password === undefined) {
        try {
          password = generatePassword(this.#policyOf(realm), { username: user.username, email: user.email });
        } catch (error) {
          if (error instanceof PasswordGenerationError) throw new InvalidRequestError(error.message, { cause: error });
          throw error;
        }
      }
      const expiresAt = reset.temporaryExpiresIn === undefined ? undefined : new Date(this.#now().getTime() + reset.temporaryExpiresIn * 1000);
      await this.#accounts.setPassword(user, password, { temporary: reset.temporary, expiresAt }, { clientId: actor.clientId, ip: actor.ip });
      return { result: reset.generate === true ? password : undefined };
    });
  }

  /** The user's password credential, if any: metadata only. */
  async credentials(realm: string, id: string): Promise<Credential[]> {
    const user = await this.getUser(realm, id);
    return user.credential ? [user.credential] : [];
  }

  /**
   * Remove the password: the user has none that validates until an
   * administrator or a reset sets one; tokens issued before are refused.
   *
   * @throws UserNotFoundError (no such user or credential), ConflictError
   */
  async deleteCredential(realm: string, id: string, credentialId: string, actor: AdminActor): Promise<void> {
    await this.#audited(realm, actor, 'DELETE', 'USER', () => `users/${id}/credentials/${credentialId}`, async () => {
      const user = await this.getUser(realm, id);
      const credential = user.credential;
      if (credential === undefined || credentialIdOf(credential) !== credentialId) throw new NotFoundError(`The user has no credential "${credentialId}" in realm "${realm}".`);
      const won = await guard(this.#store.removeCredential(realm, id, credential.hash, this.#now()));
      if (!won) throw new ConflictError('The password was changed by another request at the same time; nothing was removed.');
      return { result: undefined };
    });
  }

  async bruteForceStatus(realm: string, id: string): Promise<BruteForceStatus> {
    const user = await this.getUser(realm, id);
    const failures = user.loginFailures;
    const lockedUntil = failures?.lockedUntil !== undefined && failures.lockedUntil > this.#now() ? failures.lockedUntil : undefined;
    return {
      numFailures: failures?.count ?? 0,
      numTemporaryLockouts: failures?.temporaryLockouts ?? 0,
      // A permanent lockout disables the user and leaves the failures in place.
      disabled: lockedUntil !== undefined || (!user.enabled && failures !== undefined),
      lastFailure: failures?.lastFailureAt,
      lockedUntil,
    };
  }

  /** Forget the user's login failures and end a temporary lockout (Keycloak's DELETE of the user's brute force state). */
  async clearBruteForce(realm: string, id: string, actor: AdminActor): Promise<void> {
    await this.#audited(realm, actor, 'DELETE', 'USER', () => `attack-detection/brute-force/users/${id}`, async () => {
      await this.getUser(realm, id);
      await guard(this.#store.update(realm, id, { clearFailures: true }));
      return { result: undefined };
    });
  }

  /** Run a change and record its admin event, with the error code when it fails (the error is re-thrown). */
  async #audited<T>(
    realm: string,
    actor: AdminActor,
    operationType: AdminOperation,
    resourceType: string,
    path: () => string,
    work: () => Promise<{ result: T; path?: string }>,
  ): Promise<T> {
    const record = (resourcePath: string, error?: string): Promise<void> =>
      this.#events.recordAdmin({ realm, time: this.#now(), operationType, resourceType, resourcePath, actor, ...(error === undefined ? {} : { error }) });
    try {
      const { result, path: done } = await work();
      await record(done ?? path());
      return result;
    } catch (error) {
      await record(path(), error instanceof PasswordResourcesError ? error.code : 'server_error');
      throw error;
    }
  }
}

/** The id the admin API gives a credential; one stored before credentials had ids is `password`. */
export function credentialIdOf(credential: Credential): string {
  return credential.id ?? 'password';
}
