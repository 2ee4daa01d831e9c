/**
 * The credential store of a realm whose passwords we keep ourselves: hashes in
 * the `UserStore`, made by the `PasswordHasher`. It remembers earlier
 * credentials for `passwordHistory` and `passwordAge`, upgrades a credential
 * made in an older scheme on the next right password, expires temporary
 * passwords, and replaces a credential only by compare-and-set on the one the
 * caller read.
 */

import { randomUUID } from 'node:crypto';
import { ConflictError } from '../errors';
import type { PolicyViolation } from '../errors';
import type { CredentialStore, PasswordCheck, SetPasswordOptions, VerifyOptions } from './credential-store';
import type { HashScheme, PasswordHasher } from './hashing';
import { CredentialFormatError } from './credential-formats';
import { DAY_MS } from './policy';
import type { PasswordPolicy } from './policy';
import { StoredCredentialError, UPDATE_PASSWORD } from './store';
import type { Credential, UserRecord, UserStore } from './store';

/** What a realm's own credential store is built from. */
export interface LocalCredentialStoreDependencies {
  readonly realm: string;
  readonly users: UserStore;
  readonly hasher: PasswordHasher;
  /** The realm's policy now: its reuse rules say which earlier credentials to remember. */
  readonly policy: () => PasswordPolicy;
  /** The realm's hash scheme now: new credentials are made in it, and a right password kept otherwise is re-made in it. */
  readonly scheme: () => HashScheme;
  readonly now: () => Date;
  /** Told when re-making a credential in the current scheme failed; the check's answer stands. */
  readonly onRehashError: (error: unknown) => void;
}

/** A bound on the earlier credentials kept per user, whatever passwordAge asks: the document stays small. */
const MAX_PREVIOUS_CREDENTIALS = 50;

/**
 * Our own `CredentialStore`. Its users are the `UserRecord`s it returns: a
 * record is a snapshot, and `setPassword` replaces the credential that
 * snapshot holds or throws `ConflictError` when a concurrent change got there
 * first.
 */
export class LocalCredentialStore implements CredentialStore<UserRecord> {
  readonly #deps: LocalCredentialStoreDependencies;

  constructor(dependencies: LocalCredentialStoreDependencies) {
    this.#deps = dependencies;
  }

  async findUser(id: string): Promise<UserRecord | null> {
    return this.#deps.users.findById(this.#deps.realm, id);
  }

  /**
   * A user without a credential has no password that validates, and a
   * temporary password stops validating when it expires. A right password
   * kept in another scheme than the realm's (another algorithm, other
   * parameters) is made again in the realm's, once, by compare-and-set: that
   * is not a password change. Not when it is
   * about to be replaced: the new credential is made in the current scheme.
   */
  async verify(user: UserRecord, password: string, options: VerifyOptions): Promise<PasswordCheck> {
    const credential = user.credential;
    if (!credential || !(await this.#matches(user, password, credential, options.signal))) return { kind: 'invalid' };
    if (!options.toReplace && this.#deps.hasher.needsRehash(credential, this.#deps.scheme())) await this.#rehash(user, credential, password);
    return { kind: 'valid' };
  }

  /**
   * `passwordHistory(n)`: not one of the last n passwords, the current one
   * counted; `passwordAge(days)`: nor one in use during the last `days` days,
   * the current one included. Each earlier credential is checked like a
   * login, a hash apiece, and each at most once.
   */
  async reuseViolations(user: UserRecord, password: string, options: { readonly includeCurrent: boolean }): Promise<PolicyViolation[]> {
    const policy = this.#deps.policy();
    if (policy.history === 0 && policy.reuseDays === 0) return [];
    const now = this.#deps.now();
    const timeline = credentialTimeline(user, now);
    const lastN = new Set((policy.history === 0 ? [] : timeline.slice(-policy.history)).map((entry) => entry.credential));
    const recent = new Set(
      policy.reuseDays === 0 ? [] : timeline.filter((entry) => now.getTime() - entry.retiredAt.getTime() < policy.reuseDays * DAY_MS).map((entry) => entry.credential),
    );
    const candidates = timeline
      .map((entry) => entry.credential)
      .filter((credential) => (lastN.has(credential) || recent.has(credential)) && (options.includeCurrent || credential !== user.credential));
    const violations: PolicyViolation[] = [];
    for (const credential of candidates.reverse()) {
      if (!(await this.#check(user, password, credential))) continue;
      if (lastN.has(credential)) violations.push(ruleViolation(policy, 'passwordHistory'));
      if (recent.has(credential)) violations.push(ruleViolation(policy, 'passwordAge'));
      break;
    }
    return violations;
  }

  /**
   * Replace the credential `user` holds, remembering it as the reuse rules
   * need, and set the required actions in the same write.
   * @throws ConflictError when the stored credential is no longer the one `user` holds
   */
  async setPassword(user: UserRecord, password: string, options: SetPasswordOptions): Promise<void> {
    const now = this.#deps.now();
    const marks = options.temporary ? { temporary: true, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) } : {};
    const next: Credential = { ...(await this.#deps.hasher.hash(password, this.#deps.scheme())), id: randomUUID(), ...marks };
    const keep = credentialsToKeep(this.#deps.policy(), user, now);
    const history = user.credential && keep > 0 ? { previous: user.credential, keep } : undefined;
    const won = await this.#deps.users.compareAndSetCredential({
      realm: this.#deps.realm,
      id: user.id,
      expectedHash: user.credential?.hash ?? null,
      next,
      changedAt: now,
      requiredActions: withPasswordAction(user.requiredActions, options.temporary),
      ...(history ? { history } : {}),
    });
    if (!won) throw new ConflictError('The password was changed by another request at the same time; nothing was changed by this one.');
  }

  async ping(): Promise<void> {
    await this.#deps.users.ping();
  }

  /**
   * Whether the password is this credential's.
   * @throws StoredCredentialError when the credential cannot be checked at all: not a wrong password
   */
  async #check(user: UserRecord, password: string, credential: Credential, signal?: AbortSignal): Promise<boolean> {
    try {
      return await this.#deps.hasher.verify(password, credential, { signal });
    } catch (error) {
      if (error instanceof CredentialFormatError) throw new StoredCredentialError(this.#deps.realm, user.id, { cause: error });
      throw error;
    }
  }

  /** The password is this credential's, and the credential has not expired (temporary passwords). */
  async #matches(user: UserRecord, password: string, credential: Credential, signal?: AbortSignal): Promise<boolean> {
    const right = await this.#check(user, password, credential, signal);
    return right && (credential.expiresAt === undefined || credential.expiresAt > this.#deps.now());
  }

  /** Best effort: losing the race to a concurrent change leaves that change; a failed write leaves the old, still valid, credential. */
  async #rehash(user: UserRecord, credential: Credential, password: string): Promise<void> {
    try {
      // The same password, so the same id and age (forceExpiredPasswordChange and passwordAge count from when it was set).
      const { id, createdAt, temporary, expiresAt } = credential;
      const next: Credential = {
        ...(await this.#deps.hasher.hash(password, this.#deps.scheme())),
        createdAt,
        id: id ?? randomUUID(),
        ...(temporary === undefined ? {} : { temporary }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      };
      await this.#deps.users.rehashCredential({ realm: this.#deps.realm, id: user.id, expectedHash: credential.hash, next });
    } catch (error) {
      this.#deps.onRehashError(error);
    }
  }
}

/** The required actions after a password is set: `UPDATE_PASSWORD` only when it is temporary. */
export function withPasswordAction(actions: readonly string[], temporary: boolean): string[] {
  const others = actions.filter((action) => action !== UPDATE_PASSWORD);
  return temporary ? [...others, UPDATE_PASSWORD] : others;
}

/** A credential and when it stopped being the password: when the next one was set, or now for the current one. */
interface TimelineEntry {
  readonly credential: Credential;
  readonly retiredAt: Date;
}

/** The user's credentials, oldest first, the current one last. */
function credentialTimeline(user: UserRecord, now: Date): TimelineEntry[] {
  const all = [...user.previousCredentials, ...(user.credential ? [user.credential] : [])];
  return all.map((credential, i) => ({ credential, retiredAt: all[i + 1]?.createdAt ?? now }));
}

/**
 * How many earlier credentials to keep once the current one is replaced: the
 * last n - 1 for passwordHistory(n) (the new one is the nth), and every one in
 * use during passwordAge's days, the one being replaced included. Hashes only.
 */
function credentialsToKeep(policy: PasswordPolicy, user: UserRecord, now: Date): number {
  const byCount = Math.max(policy.history - 1, 0);
  const byAge =
    policy.reuseDays === 0 ? 0 : credentialTimeline(user, now).filter((entry) => now.getTime() - entry.retiredAt.getTime() < policy.reuseDays * DAY_MS).length;
  return Math.min(Math.max(byCount, byAge), MAX_PREVIOUS_CREDENTIALS);
}

/** The violation of one of the policy's rules, worded as `describe()` words it. */
function ruleViolation(policy: PasswordPolicy, name: string): PolicyViolation {
  const rule = policy.rules.find((r) => r.policy === name);
  return { policy: name, ...(rule?.parameter === undefined ? {} : { parameter: rule.parameter }), message: rule?.message ?? name };
}
