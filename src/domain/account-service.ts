import { randomBytes, randomUUID } from 'node:crypto';
import {
  ConflictError,
  InvalidCurrentPasswordError,
  InvalidRequestError,
  InvalidTokenError,
  InvalidPasswordError,
  PasswordResourcesError,
  TemporarilyUnavailableError,
  TooManyFailuresError,
} from '../errors';
import type { PolicyViolation } from '../errors';
import type { CredentialStore, CredentialUser, SetPasswordOptions as StoreSetPasswordOptions } from './credential-store';
import type { DatabaseBudget } from './database-budget';
import type { AuditContext, EventSink, EventType } from './events';
import { decideLockout, DEFAULT_BRUTE_FORCE, retryAfterSeconds } from './lockout';
import type { BruteForceSettings, CountedFailure } from './lockout';
import type { HashScheme, PasswordHasher } from './hashing';
import { HashQueueFullError } from './hash-queue';
import { LocalCredentialStore, withPasswordAction } from './local-credential-store';
import { normalizePassword } from './hashing';
import { exceedsHardCap, passwordExpired } from './policy';
import type { PasswordPolicy } from './policy';
import { DuplicateUserError, StoreUnavailableError, UPDATE_PASSWORD } from './store';
import type { Credential, LoginFailures, UserAttributes, UserRecord, UserStore } from './store';

/** What a use case may be given besides its input: the caller's signal (aborted when its client went away). */
export interface RequestOptions {
  readonly signal?: AbortSignal | undefined;
}

/** The hash queue's door, asked before a guess is reserved so that shed work writes nothing. */
export interface HashAdmission {
  /** @throws HashQueueFullError when a hash arriving now would be refused */
  refuseIfFull(): void;
}

/**
 * How long a password change holds its user's lease: longer than any change
 * takes (two hashes after at most the hash queue's budget, a few database
 * calls); a lease whose instance stopped blocks that user's changes no longer.
 */
const CHANGE_LEASE_MS = 60_000;

/** What the account service is built from. */
export interface AccountServiceDependencies {
  readonly store: UserStore;
  readonly hasher: PasswordHasher;
  /** The policy of a realm; called only for realms the caller knows. */
  readonly policyOf: (realm: string) => PasswordPolicy;
  /** How a realm stores new passwords; a right password in another scheme is re-made in it. */
  readonly hashSchemeOf: (realm: string) => HashScheme;
  /** Where audit events go. Default: nowhere. */
  readonly events?: EventSink;
  /** The brute force settings of a realm. Default: `DEFAULT_BRUTE_FORCE` everywhere. */
  readonly bruteForceOf?: (realm: string) => BruteForceSettings;
  readonly now?: () => Date;
  /** Told when re-making a credential in the current scheme failed; the check's answer stands. */
  readonly onRehashError?: (error: unknown) => void;
  /** Told after every password change (to mail the user); must not throw. */
  readonly onPasswordChanged?: (user: UserRecord, change: PasswordChange) => void;
  /**
   * The credential store of a realm whose passwords live elsewhere (Keycloak
   * in sidecar mode), or `undefined` for ours. Default: ours everywhere.
   */
  readonly credentialStoreOf?: (realm: string) => CredentialStore | undefined;
  /** Asked before a guess of a realm whose passwords we hash is reserved. Default: admit all. */
  readonly admission?: HashAdmission;
}

/** Who changed a password: the user with the current one, an administrator, or the user through a reset link or code. */
export type PasswordChangeSource = 'self' | 'admin' | 'recovery';

export interface PasswordChange {
  readonly source: PasswordChangeSource;
  readonly temporary: boolean;
}

/** Input of `AccountService.createUser`. */
export interface CreateUserInput {
  readonly realm: string;
  readonly username: string;
  readonly email?: string | undefined;
  /** The IdP subject; a random UUID when absent. */
  readonly id?: string | undefined;
  readonly password?: string | undefined;
  /** Mark the password temporary: the user must choose a new one (`UPDATE_PASSWORD`). */
  readonly temporary?: boolean;
  /** Default true. */
  readonly enabled?: boolean;
  readonly emailVerified?: boolean;
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly locale?: string | undefined;
  /** Keycloak's other user attributes, `{"name": ["value", ...]}`. */
  readonly attributes?: UserAttributes | undefined;
  /** Required actions besides the `UPDATE_PASSWORD` that `temporary` adds. */
  readonly requiredActions?: readonly string[];
}

/** How an administrator sets a password. */
export interface SetPasswordOptions extends StoreSetPasswordOptions {
  /** Default `admin`. */
  readonly source?: PasswordChangeSource;
}

/** Who a login server asks about: a username (or email), or the user's id. */
export type LoginIdentifier = { readonly username: string } | { readonly id: string };

/** The answer to a login server: the user and their required actions, or a refusal that says nothing more. */
export type LoginCheck =
  | { readonly valid: false }
  | { readonly valid: true; readonly user: UserRecord; readonly requiredActions: readonly string[] };

/** Which use case a password check serves, for its audit events: the account API's or a login server's. */
type CheckEvent = 'VALIDATE_PASSWORD' | 'LOGIN';

const NOT_CURRENT: PolicyViolation = {
  policy: 'notCurrentPassword',
  message: 'The new password must differ from the current password.',
};

/**
 * The account use cases: verify a password, change it with the current one,
 * create users and set passwords as an administrator. Knows nothing of HTTP or
 * MongoDB; everything it touches is passed in.
 */
export class AccountService {
  readonly #store: UserStore;
  readonly #hasher: PasswordHasher;
  readonly #policyOf: (realm: string) => PasswordPolicy;
  readonly #hashSchemeOf: (realm: string) => HashScheme;
  readonly #now: () => Date;
  readonly #bruteForceOf: (realm: string) => BruteForceSettings;
  readonly #events: EventSink;
  readonly #onRehashError: (error: unknown) => void;
  readonly #onPasswordChanged: (user: UserRecord, change: PasswordChange) => void;
  readonly #credentialStoreOf: (realm: string) => CredentialStore | undefined;
  readonly #admission: HashAdmission | undefined;
  /** Our own credential store, one per realm, made on first use. */
  readonly #localStores = new Map<string, LocalCredentialStore>();
  /** Credentials of no one's, one per hash scheme (by its JSON), checked for an unknown user so that they take as long as a wrong password; shared with `within`'s views. */
  #decoys = new Map<string, Promise<Credential>>();
  readonly #dependencies: AccountServiceDependencies;

  constructor(dependencies: AccountServiceDependencies) {
    this.#dependencies = dependencies;
    this.#store = dependencies.store;
    this.#hasher = dependencies.hasher;
    this.#policyOf = dependencies.policyOf;
    this.#hashSchemeOf = dependencies.hashSchemeOf;
    this.#now = dependencies.now ?? (() => new Date());
    this.#bruteForceOf = dependencies.bruteForceOf ?? (() => DEFAULT_BRUTE_FORCE);
    this.#events = dependencies.events ?? { record: () => Promise.resolve() };
    this.#onRehashError = dependencies.onRehashError ?? (() => undefined);
    this.#onPasswordChanged = dependencies.onPasswordChanged ?? (() => undefined);
    this.#credentialStoreOf = dependencies.credentialStoreOf ?? (() => undefined);
    this.#admission = dependencies.admission;
  }

  /**
   * This service for one request: every store operation it makes takes at
   * most what is left of the request's database `budget` (then 503), and it
   * waits for an audit event's write no longer than that (the event is logged
   * whatever happens).
   */
  within(budget: DatabaseBudget): AccountService {
    const events = this.#dependencies.events;
    const view = new AccountService({
      ...this.#dependencies,
      store: this.#dependencies.store.within(budget),
      ...(events
        ? {
            events: {
              record: async (event) => {
                await budget.bound(events.record(event));
              },
            },
          }
        : {}),
    });
    view.#decoys = this.#decoys;
    return view;
  }

  /**
   * The enabled user with this subject in the realm, or `null`. In a realm
   * whose passwords live elsewhere the user is looked up there (username,
   * email, enabled, required actions) and kept here for what is ours
   * (lockout, the last change), created on first sight.
   */
  async findActiveUser(realm: string, id: string): Promise<UserRecord | null> {
    const external = this.#credentialStoreOf(realm);
    if (external) return this.#findExternalUser(realm, id, external);
    const user = await guard(this.#localStoreOf(realm).findUser(id));
    return user?.enabled ? user : null;
  }

  async #findExternalUser(realm: string, id: string, external: CredentialStore): Promise<UserRecord | null> {
    const remote = await guard(external.findUser(id));
    if (!remote?.enabled) return null;
    const local = await this.#copyOf(realm, remote, external, 0);
    // Disabled here only by our own permanent lockout.
    if (!local.enabled) return null;
    return { ...local, username: remote.username.toLowerCase(), email: remote.email?.toLowerCase(), requiredActions: remote.requiredActions };
  }

  /**
   * Our copy of another store's user, for what is ours (lockout, the last
   * change): made on first sight, renamed when the store renamed the user.
   * The email is copied when no other copy holds it (Keycloak may let users
   * share one). A copy of a user the store has since deleted or renamed may
   * still hold the username: it is released first.
   */
  async #copyOf(realm: string, remote: CredentialUser, external: CredentialStore, depth: number): Promise<UserRecord> {
    const username = remote.username.toLowerCase();
    let email = remote.email?.toLowerCase();
    for (let attempt = 0; attempt < 3; attempt++) {
      const local = await guard(this.#store.findById(realm, remote.id));
      if (local?.username === username) return local;
      try {
        const written = local
          ? await guard(this.#store.update(realm, remote.id, { username, email: email ?? null }))
          : await guard(this.#store.create({ realm, id: remote.id, username, email, enabled: true, requiredActions: [] }));
        if (written) return written;
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error;
        if (error.field === 'email') email = undefined;
        else if (error.field === 'username' && depth < 2) await this.#releaseUsername(realm, username, external, depth);
        // 'id': a concurrent first request made the copy; read it again.
      }
    }
    throw new ConflictError(`Our copy of user ${remote.id} could not be brought in line with the credential store's; retry.`);
  }

  /** Another user's copy holds `username`: the store deleted that user (forget the copy) or renamed them (rename it). */
  async #releaseUsername(realm: string, username: string, external: CredentialStore, depth: number): Promise<void> {
    const holder = await guard(this.#store.findByUsername(realm, username));
    if (!holder) return;
    const current = await guard(external.findUser(holder.id));
    if (current) await this.#copyOf(realm, current, external, depth + 1);
    else await guard(this.#store.delete(realm, holder.id));
  }

  /**
   * Whether `password` is the user's current password, as the realm's
   * credential store tells (ours upgrades a right password kept in an older
   * scheme); a wrong one counts towards lockout.
   */
  async validatePassword(user: UserRecord, password: string, context: AuditContext = {}, event: CheckEvent = 'VALIDATE_PASSWORD', options: RequestOptions = {}): Promise<boolean> {
    return this.#audited(user, context, event, async () => {
      this.#refuseIfLocked(user);
      const valid = await this.#verify(user, password, context, { toReplace: false, signal: options.signal });
      if (!valid) await this.#record(user, context, `${event}_ERROR`, 'invalid_user_credentials');
      return valid;
    });
  }

  /**
   * A login server's question (Keycloak's provider, an Auth0 custom database):
   * is this the password of the user with this username, email or id? The
   * same check as `validatePassword` (lockout, admission, temporary-password
   * expiry, re-hashing), audited as Keycloak's `LOGIN` and `LOGIN_ERROR`.
   * An unknown or disabled user is refused like a wrong password, after a
   * hash of the same cost, so the answer and its time do not tell them apart.
   *
   * @throws TooManyFailuresError for a locked user (before any hash); InvalidRequestError in a realm whose passwords Keycloak keeps
   */
  async checkLogin(realm: string, login: LoginIdentifier, password: string, context: AuditContext = {}): Promise<LoginCheck> {
    if (this.#credentialStoreOf(realm)) {
      throw new InvalidRequestError(`Realm "${realm}" keeps its passwords in Keycloak (sidecar mode); a login server checks them there, not here.`);
    }
    const user = await this.#findForLogin(realm, login);
    if (!user?.enabled) {
      await this.#hasher.verify(password, await this.#decoyCredential(this.#hashSchemeOf(realm)));
      return { valid: false };
    }
    if (!(await this.validatePassword(user, password, context, 'LOGIN'))) return { valid: false };
    return { valid: true, user, requiredActions: this.requiredActionsOf(user) };
  }

  /** By id, or by username, then by email as Keycloak's login form does (an email two users share finds no one). */
  async #findForLogin(realm: string, login: LoginIdentifier): Promise<UserRecord | null> {
    if ('id' in login) return guard(this.#store.findById(realm, login.id));
    const name = login.username.toLowerCase();
    const byUsername = await guard(this.#store.findByUsername(realm, name));
    if (byUsername || !name.includes('@')) return byUsername;
    const byEmail = await guard(this.#store.find(realm, { email: { value: name, mode: 'exact' } }, { first: 0, max: 2 }));
    return byEmail.length === 1 ? (byEmail[0] ?? null) : null;
  }

  /** Made once per scheme, in the realm's scheme and cost, from a random password nobody knows. */
  async #decoyCredential(scheme: HashScheme): Promise<Credential> {
    const key = JSON.stringify(scheme);
    let decoy = this.#decoys.get(key);
    if (!decoy) {
      decoy = this.#hasher.hash(randomBytes(24).toString('base64'), scheme).catch((error: unknown) => {
        this.#decoys.delete(key);
        throw error;
      });
      this.#decoys.set(key, decoy);
    }
    return decoy;
  }

  /**
   * The user's required actions, with `UPDATE_PASSWORD` added when the realm's
   * `forceExpiredPasswordChange(days)` finds the password too old (counted from
   * when it was set; re-hashing does not reset it).
   */
  requiredActionsOf(user: UserRecord): readonly string[] {
    const { expiresAfterDays } = this.#policyOf(user.realm);
    const expired = user.credential !== undefined && passwordExpired(user.credential.createdAt, expiresAfterDays, this.#now());
    return expired && !user.requiredActions.includes(UPDATE_PASSWORD) ? [...user.requiredActions, UPDATE_PASSWORD] : user.requiredActions;
  }

  /**
   * Change the password when `currentPassword` is right. The current password is
   * checked before anything about the new one, except its length: a new
   * password over `PASSWORD_HARD_CAP` is refused at once, with the policy's
   * violations and without a hash. The update is a
   * compare-and-set on the credential it replaces. A success clears the
   * `UPDATE_PASSWORD` required action. One change per user runs at a time,
   * whatever the instance: a change that finds another under way gets
   * `ConflictError` before any hash.
   *
   * @throws TooManyFailuresError, InvalidCurrentPasswordError, InvalidPasswordError, ConflictError
   */
  async changePassword(user: UserRecord, currentPassword: string, newPassword: string, context: AuditContext = {}, options: RequestOptions = {}): Promise<void> {
    await this.#audited(user, context, 'UPDATE_PASSWORD', async () => {
      this.#refuseIfLocked(user);
      // Over the hard cap the answer is known without the current password: no hash, no lease.
      if (exceedsHardCap(newPassword)) throw new InvalidPasswordError(this.#violations(user, newPassword));
      const lease = randomUUID();
      const now = this.#now();
      if (!(await guard(this.#store.takeChangeLease(user.realm, user.id, lease, now, new Date(now.getTime() + CHANGE_LEASE_MS))))) {
        throw new ConflictError('Another change of this password is under way; nothing was changed by this request.');
      }
      try {
        if (!(await this.#verify(user, currentPassword, context, { toReplace: true, signal: options.signal }))) throw new InvalidCurrentPasswordError();
        const violations = this.#violations(user, newPassword);
        if (normalizePassword(newPassword) === normalizePassword(currentPassword)) violations.push(NOT_CURRENT);
        else violations.push(...(await guard(this.#credentialsOf(user.realm).reuseViolations(user, newPassword, { includeCurrent: false }))));
        if (violations.length > 0) throw new InvalidPasswordError(violations);
        await this.#set(user, newPassword, { temporary: false });
      } finally {
        // Best effort: a lease not given back runs out by itself.
        await this.#store.releaseChangeLease(user.realm, user.id, lease).catch(() => undefined);
      }
      this.#onPasswordChanged(user, { source: 'self', temporary: false });
      return true;
    });
  }

  /**
   * Set a user's password as an administrator (kcadm's `set-password`): no
   * current password, the realm's policy applies, `temporary` asks the user to
   * choose a new one.
   *
   * @throws InvalidPasswordError, ConflictError
   */
  async setPassword(user: UserRecord, password: string, options: SetPasswordOptions, context: AuditContext = {}): Promise<void> {
    await this.#audited(user, context, 'UPDATE_PASSWORD', async () => {
      const violations = this.#violations(user, password);
      // The history is checked by hashing the password against each earlier one: never for a password over the cap.
      if (!exceedsHardCap(password)) violations.push(...(await guard(this.#credentialsOf(user.realm).reuseViolations(user, password, { includeCurrent: true }))));
      if (violations.length > 0) throw new InvalidPasswordError(violations);
      await this.#set(user, password, options);
      this.#onPasswordChanged(user, { source: options.source ?? 'admin', temporary: options.temporary });
      return true;
    });
  }

  /**
   * Create an enabled user, with a password when one is given. Creating a user is
   * not a password change, so tokens issued before it stay valid.
   *
   * @throws InvalidPasswordError, ConflictError (duplicate id, username or email)
   */
  async createUser(input: CreateUserInput): Promise<UserRecord> {
    const username = input.username.toLowerCase();
    const email = input.email?.toLowerCase();
    let credential: Credential | undefined;
    if (input.password !== undefined) {
      const violations = this.#policyOf(input.realm).check(input.password, { username, email });
      if (violations.length > 0) throw new InvalidPasswordError(violations);
      credential = { ...(await this.#hasher.hash(input.password, this.#hashSchemeOf(input.realm))), id: randomUUID(), ...(input.temporary === true ? { temporary: true } : {}) };
    }
    const requiredActions = [...new Set([...(input.requiredActions ?? []), ...(input.temporary === true ? [UPDATE_PASSWORD] : [])])];
    try {
      return await guard(
        this.#store.create({
          realm: input.realm,
          id: input.id ?? randomUUID(),
          username,
          email,
          emailVerified: input.emailVerified ?? false,
          firstName: input.firstName,
          lastName: input.lastName,
          locale: input.locale,
          attributes: input.attributes,
          enabled: input.enabled ?? true,
          credential,
          requiredActions,
        }),
      );
    } catch (error) {
      if (error instanceof DuplicateUserError) {
        throw new ConflictError(`A user with this ${error.field} already exists in realm "${input.realm}".`, { cause: error });
      }
      throw error;
    }
  }

  /** The user with this username in the realm, enabled or not, or `null`. */
  async findByUsername(realm: string, username: string): Promise<UserRecord | null> {
    return guard(this.#store.findByUsername(realm, username.toLowerCase()));
  }

  /** The realm's credential store: another system's (sidecar mode) or ours. */
  #credentialsOf(realm: string): CredentialStore | LocalCredentialStore {
    return this.#credentialStoreOf(realm) ?? this.#localStoreOf(realm);
  }

  #localStoreOf(realm: string): LocalCredentialStore {
    let local = this.#localStores.get(realm);
    if (!local) {
      local = new LocalCredentialStore({
        realm,
        users: this.#store,
        hasher: this.#hasher,
        policy: () => this.#policyOf(realm),
        scheme: () => this.#hashSchemeOf(realm),
        now: this.#now,
        onRehashError: this.#onRehashError,
      });
      this.#localStores.set(realm, local);
    }
    return local;
  }

  /**
   * Check a password against the realm's credential store, the guess taken
   * from the user's budget here first (whatever the store), in one atomic
   * write before the hash; a wrong one then locks as Keycloak would, a right
   * one clears the count. A user another store's own detector has locked
   * gets 429 too.
   */
  async #verify(user: UserRecord, password: string, context: AuditContext, options: { readonly toReplace: boolean; readonly signal: AbortSignal | undefined }): Promise<boolean> {
    // Shed before anything is written: a guess refused for load is no guess.
    if (this.#credentialStoreOf(user.realm) === undefined) this.#admission?.refuseIfFull();
    const failure = await this.#reserve(user);
    let check;
    try {
      check = await guard(this.#credentialsOf(user.realm).verify(user, password, options));
    } catch (error) {
      // No answer on the password (shed, its caller gone, the store away): the guess is given back.
      await this.#store.releaseAttempt(user.realm, user.id, failure.count).catch(() => undefined);
      throw error;
    }
    switch (check.kind) {
      case 'locked':
        await this.#store.releaseAttempt(user.realm, user.id, failure.count).catch(() => undefined);
        throw new TooManyFailuresError(check.retryAfterSeconds);
      case 'valid':
        await guard(this.#store.clearFailures(user.realm, user.id));
        return true;
      case 'invalid':
        await this.#judge(user, failure, context);
        return false;
    }
  }

  /**
   * Take one guess from the user's budget, or refuse with the lockout answer:
   * locked, or every guess of the budget taken by guesses not judged yet
   * (`Retry-After: 1`: if one of them is right the budget is back within a
   * hash's time). A budget whose judge never wrote its lock (an instance that
   * stopped) is given back once that lock would have ended.
   */
  async #reserve(user: UserRecord): Promise<CountedFailure> {
    const settings = this.#bruteForceOf(user.realm);
    for (let round = 0; ; round++) {
      const now = this.#now();
      const request = { now, resetBefore: new Date(now.getTime() - settings.failureResetTimeSeconds * 1000), budget: settings.failureFactor };
      // The user was read for this request: its series saves the store a read (after a refill it is stale).
      const reservation = await guard(this.#store.reserveAttempt(user.realm, user.id, round === 0 ? { ...request, known: { failures: user.loginFailures } } : request));
      if (reservation === null) throw new InvalidTokenError('The token\'s subject is no longer a user of this realm.');
      switch (reservation.kind) {
        case 'reserved':
          return reservation.failure;
        case 'locked':
          throw new TooManyFailuresError(retryAfterSeconds(reservation.until, now) ?? 1);
        case 'exhausted':
          break;
      }
      const { lastFailureAt } = reservation.failures;
      if (round > 0 || lastFailureAt === undefined || impliedLockEnd(settings, reservation.failures) > now) {
        throw new TooManyFailuresError(1, 'Too many password checks of this account are under way; retry in a moment.');
      }
      await guard(this.#store.refillAttempts(user.realm, user.id, lastFailureAt, settings.failureFactor));
    }
  }

  /** A wrong guess, already counted when it was reserved: lock as Keycloak would. */
  async #judge(user: UserRecord, failure: CountedFailure, context: AuditContext): Promise<void> {
    const settings = this.#bruteForceOf(user.realm);
    const decision = decideLockout(settings, failure, this.#now());
    switch (decision.kind) {
      case 'none':
        return;
      case 'temporary':
        await guard(this.#store.lockTemporarily(user.realm, user.id, { until: decision.until, counts: decision.counts, count: failure.count, budget: settings.failureFactor }));
        await this.#record(user, context, 'USER_DISABLED_BY_TEMPORARY_LOCKOUT');
        return;
      case 'permanent':
        await guard(this.#store.disable(user.realm, user.id));
        await this.#record(user, context, 'USER_DISABLED_BY_PERMANENT_LOCKOUT');
        return;
    }
  }

  /**
   * Set the password in the realm's credential store. Ours notes the change
   * (for revocation) in the same compare-and-set; for another system's it is
   * noted here afterwards. There is no compare-and-set across the two
   * systems: of two concurrent changes, Keycloak keeps the last one.
   */
  async #set(user: UserRecord, password: string, options: SetPasswordOptions): Promise<void> {
    const external = this.#credentialStoreOf(user.realm);
    if (!external) {
      await guard(this.#localStoreOf(user.realm).setPassword(user, password, options));
      return;
    }
    await guard(external.setPassword(user, password, options));
    await guard(this.#store.recordPasswordChange(user.realm, user.id, this.#now(), withPasswordAction(user.requiredActions, options.temporary)));
  }

  /** 429 before any hash while a lockout lasts. */
  #refuseIfLocked(user: UserRecord): void {
    const seconds = retryAfterSeconds(user.loginFailures?.lockedUntil, this.#now());
    if (seconds !== undefined) throw new TooManyFailuresError(seconds);
  }

  /**
   * Run a use case and record its event: `type` on success, `type_ERROR` with
   * the error's code when it throws (the error is re-thrown), except a request
   * shed by the full hash queue. A `false` result
   * records nothing here; the use case records its own error event.
   */
  async #audited(user: UserRecord, context: AuditContext, type: CheckEvent | 'UPDATE_PASSWORD', work: () => Promise<boolean>): Promise<boolean> {
    let result: boolean;
    try {
      result = await work();
    } catch (error) {
      // Shed load stays cheap: no write per refused request while the service is overloaded (the metrics count them).
      if (error instanceof HashQueueFullError) throw error;
      await this.#record(user, context, `${type}_ERROR`, error instanceof InvalidCurrentPasswordError ? 'invalid_user_credentials' : error instanceof PasswordResourcesError ? error.code : 'server_error');
      throw error;
    }
    if (result) await this.#record(user, context, type);
    return result;
  }

  async #record(user: UserRecord, context: AuditContext, type: EventType, error?: string): Promise<void> {
    await this.#events.record({ type, realm: user.realm, userId: user.id, clientId: context.clientId, ip: context.ip, time: this.#now(), error });
  }

  #violations(user: UserRecord, password: string): PolicyViolation[] {
    return this.#policyOf(user.realm).check(password, { username: user.username, email: user.email });
  }

}

/**
 * When the lock that the last guess of a spent budget would bring ends, if
 * that guess is wrong: the lock Keycloak's rule gives that many failures,
 * from the last one. (A permanent lockout is waited out like the longest one.)
 */
function impliedLockEnd(settings: BruteForceSettings, failures: LoginFailures): Date {
  const at = failures.lastFailureAt ?? new Date(0);
  const decision = decideLockout(settings, { count: failures.count, previousFailureAt: undefined, temporaryLockouts: failures.temporaryLockouts }, at);
  switch (decision.kind) {
    case 'none':
      return at;
    case 'temporary':
      return decision.until;
    case 'permanent':
      return new Date(at.getTime() + settings.maxFailureWaitSeconds * 1000);
  }
}

/** Store outages become 503 so callers retry instead of seeing a 500. */
export async function guard<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      throw new TemporarilyUnavailableError('The credential store is temporarily unavailable; retry later.', { cause: error });
    }
    throw error;
  }
}
