/**
 * Password recovery by email: reset links (Keycloak's execute-actions-email
 * and forgot-password, Auth0's tickets) and one-time codes (Authgear). Link
 * keys and codes are random, stored only as SHA-256 hashes, expire, work
 * once, and only a user's most recent one works; any password change ends it.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { InvalidRequestError, TemporarilyUnavailableError, TooManyFailuresError, UserNotFoundError } from '../errors';
import type { AccountService } from './account-service';
import { guard } from './account-service';
import type { AuditContext, EventSink } from './events';
import { MailDeliveryError, MailNotConfiguredError } from './mail';
import type { Mailer, MailKind } from './mail';
import type { UserRecord, UserStore } from './store';

/** A link key or a code, as stored: its hash only. */
export interface ActionToken {
  readonly realm: string;
  readonly userId: string;
  readonly kind: 'link' | 'code';
  /** SHA-256, hex, of the key (links) or of realm, user and code (codes). */
  readonly hash: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly usedAt?: Date | undefined;
  /** Wrong codes so far. */
  readonly attempts: number;
  /** Where the hosted page sends the user after a success (an allowed redirect URI). */
  readonly redirectUri?: string | undefined;
  /** Auth0's ticket options. */
  readonly markEmailVerified?: boolean | undefined;
  readonly includeEmail?: boolean | undefined;
}

/** Storage of action tokens; each method is one atomic operation. */
export interface ActionTokenStore {
  init(): Promise<void>;
  /** Store `token` as the user's only one: any earlier one stops working. */
  issue(token: ActionToken): Promise<void>;
  findByHash(realm: string, hash: string): Promise<ActionToken | null>;
  findForUser(realm: string, userId: string): Promise<ActionToken | null>;
  /** Mark used, only if unused. @returns whether this call did. */
  markUsed(realm: string, hash: string, at: Date): Promise<boolean>;
  /** Count a wrong code. @returns the attempts after this one. */
  countAttempt(realm: string, hash: string): Promise<number>;
}

/** Counts requests in fixed windows, shared by every instance. */
export interface RateLimiter {
  /** Count one request under `key`. @returns the seconds to wait when over `limit`, else `undefined`. */
  hit(key: string, limit: number, windowSeconds: number, now: Date): Promise<number | undefined>;
}

/** What recovery needs to know of a realm. */
export interface RecoveryRealm {
  readonly recovery: {
    readonly selfServiceLifespanSeconds: number;
    readonly adminLifespanSeconds: number;
    readonly codeAttempts: number;
    readonly perAddress: { readonly limit: number; readonly windowSeconds: number };
    readonly perIp: { readonly limit: number; readonly windowSeconds: number };
  };
  /** Redirect URIs by client id. */
  readonly clients: ReadonlyMap<string, readonly string[]>;
}

export interface RecoveryDependencies {
  readonly users: UserStore;
  readonly tokens: ActionTokenStore;
  readonly limiter: RateLimiter;
  readonly accounts: AccountService;
  readonly mailer: Mailer;
  readonly realmOf: (realm: string) => RecoveryRealm;
  /**
   * The URL to redirect to when `uri` is an allowed redirect of `clientId` (any
   * client when `undefined`): `uri` normalised as a browser follows it, matched
   * in that form. `undefined` when not allowed; throws `InvalidRequestError`
   * for a URI refused outright (user-info, fragment, backslash).
   */
  readonly redirectAllowed: (realm: string, uri: string, clientId: string | undefined) => string | undefined;
  /** The hosted page's address for a realm, without the key; `undefined` when the public URL is not configured. */
  readonly pageUrl: (realm: string) => string | undefined;
  readonly events?: EventSink;
  readonly now?: () => Date;
  /** Told about failures of work done after the answer (forgot-password); must not throw. */
  readonly onBackgroundError?: (error: unknown, realm: string) => void;
}

/** Why a link does not work; each becomes its own page. */
export type LinkProblem = 'invalid' | 'expired' | 'used' | 'superseded';

export class RecoveryLinkError extends Error {
  override name = 'RecoveryLinkError';
  constructor(readonly problem: LinkProblem) {
    super(`The reset link is ${problem}.`);
  }
}

/** 400 for a wrong, used or expired code, or an unknown user: the same answer for each. */
export class InvalidCodeError extends InvalidRequestError {
  constructor() {
    super('The code is wrong, used or expired. Ask for a new one.');
  }
}

/** A user's forgot-password request names them by one of these. */
export type Identifier = { readonly username: string } | { readonly email: string };

const CODE_DIGITS = 8;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function codeHash(realm: string, userId: string, code: string): string {
  return sha256(`${realm}\u0000${userId}\u0000${code}`);
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * The recovery use cases. HTTP, MongoDB and SMTP stay outside: the stores and
 * the mailer are passed in.
 */
export class RecoveryService {
  readonly #deps: RecoveryDependencies;
  readonly #now: () => Date;
  readonly #events: EventSink;

  constructor(dependencies: RecoveryDependencies) {
    this.#deps = dependencies;
    this.#now = dependencies.now ?? (() => new Date());
    this.#events = dependencies.events ?? { record: () => Promise.resolve() };
  }

  /**
   * Keycloak's execute-actions-email with `UPDATE_PASSWORD`: mail the user a
   * link. The mail is sent before the answer, so a failure is the caller's 503.
   *
   * @throws UserNotFoundError; InvalidRequestError (no SMTP, no email, redirect not allowed, no public URL); TemporarilyUnavailableError (SMTP failed)
   */
  async sendResetEmail(realm: string, userId: string, options: { lifespanSeconds?: number | undefined; clientId?: string | undefined; redirectUri?: string | undefined }, context: AuditContext): Promise<void> {
    const user = await this.#user(realm, userId);
    if (!this.#deps.mailer.configured(realm)) throw new InvalidRequestError(`Realm "${realm}" has no SMTP settings, so no mail can be sent; set realms.${realm}.smtp.`);
    if (user.email === undefined) throw new InvalidRequestError('The user has no email address to send the link to.');
    let redirectUri: string | undefined;
    if (options.redirectUri !== undefined) {
      if (options.clientId === undefined) throw new InvalidRequestError('redirect_uri needs client_id: the client whose redirect URIs allow it.');
      redirectUri = this.#checkRedirect(realm, options.redirectUri, options.clientId);
    }
    const lifespan = options.lifespanSeconds ?? this.#deps.realmOf(realm).recovery.adminLifespanSeconds;
    const link = await this.#issueLink(user, lifespan, { redirectUri });
    try {
      await this.#mail(user, 'reset-link', { link, expiresInMinutes: Math.round(lifespan / 60) });
    } catch (error) {
      await this.#record(user, context, 'SEND_RESET_PASSWORD_ERROR', 'email_send_failed');
      if (error instanceof MailDeliveryError) throw new TemporarilyUnavailableError(`The mail could not be sent: ${error.message}`, { cause: error });
      throw error;
    }
    await this.#record(user, context, 'SEND_RESET_PASSWORD');
  }

  /**
   * Auth0's password-change ticket: a link for delivery by other means; no mail.
   *
   * @returns the link
   * @throws UserNotFoundError, InvalidRequestError
   */
  async createTicket(realm: string, userId: string, options: { ttlSeconds?: number | undefined; resultUrl?: string | undefined; markEmailVerified?: boolean; includeEmail?: boolean }): Promise<string> {
    const user = await this.#user(realm, userId);
    const redirectUri = options.resultUrl === undefined ? undefined : this.#checkRedirect(realm, options.resultUrl, undefined);
    return this.#issueLink(user, options.ttlSeconds ?? this.#deps.realmOf(realm).recovery.adminLifespanSeconds, {
      redirectUri,
      markEmailVerified: options.markEmailVerified,
      includeEmail: options.includeEmail,
    });
  }

  /**
   * Self-service: count the request against the address and the client; the
   * rest (finding the user, mailing them) is returned as `afterAnswer`, for
   * the caller to run once the answer has gone out, so the answer and its
   * timing are the same whether or not the account exists.
   *
   * @throws TooManyFailuresError when the address or the client asked too often; InvalidRequestError for a redirect not allowed
   */
  async forgotPassword(
    realm: string,
    request: { identifier: Identifier; method: 'link' | 'code'; clientId?: string | undefined; redirectUri?: string | undefined },
    context: AuditContext,
  ): Promise<{ afterAnswer: () => Promise<void> }> {
    const settings = this.#deps.realmOf(realm).recovery;
    const redirectUri = request.redirectUri === undefined ? undefined : this.#checkRedirect(realm, request.redirectUri, request.clientId);
    const address = 'username' in request.identifier ? `u:${request.identifier.username.toLowerCase()}` : `e:${request.identifier.email.toLowerCase()}`;
    const now = this.#now();
    const waits = await Promise.all([
      guard(this.#deps.limiter.hit(`forgot:${realm}:${address}`, settings.perAddress.limit, settings.perAddress.windowSeconds, now)),
      context.ip === undefined ? Promise.resolve(undefined) : guard(this.#deps.limiter.hit(`forgot-ip:${realm}:${context.ip}`, settings.perIp.limit, settings.perIp.windowSeconds, now)),
    ]);
    const wait = Math.max(...waits.map((seconds) => seconds ?? 0));
    if (wait > 0) throw new TooManyFailuresError(wait, `Too many reset requests; try again in ${wait} seconds.`);
    return {
      afterAnswer: () =>
        this.#forgotInBackground(realm, { ...request, redirectUri }, settings.selfServiceLifespanSeconds, context).catch((error: unknown) => {
          this.#deps.onBackgroundError?.(error, realm);
        }),
    };
  }

  /**
   * What a link leads to, without using it (a GET, as mail scanners and link
   * previews do, never consumes it).
   *
   * @throws RecoveryLinkError saying why it does not work
   */
  async inspectLink(realm: string, key: string): Promise<{ user: UserRecord; token: ActionToken }> {
    const token = await guard(this.#deps.tokens.findByHash(realm, sha256(key)));
    if (!token || token.kind !== 'link') throw new RecoveryLinkError('invalid');
    if (token.usedAt !== undefined) throw new RecoveryLinkError('used');
    if (token.expiresAt <= this.#now()) throw new RecoveryLinkError('expired');
    const user = await guard(this.#deps.users.findById(realm, token.userId));
    if (!user?.enabled) throw new RecoveryLinkError('invalid');
    if (user.passwordChangedAt !== undefined && user.passwordChangedAt > token.createdAt) throw new RecoveryLinkError('superseded');
    return { user, token };
  }

  /**
   * Set the new password through a link: the realm's policy and history apply
   * (a refused password leaves the link usable), then the link is used up.
   *
   * @returns where to send the user: the link's redirect, with Auth0's query when asked
   * @throws RecoveryLinkError, InvalidPasswordError, ConflictError
   */
  async completeLink(realm: string, key: string, password: string, context: AuditContext): Promise<{ redirect: string | undefined; user: UserRecord }> {
    const { user, token } = await this.inspectLink(realm, key);
    await this.#deps.accounts.setPassword(user, password, { temporary: false, source: 'recovery' }, context);
    // The credential's compare-and-set made this change the only one; the mark keeps the link from working again.
    await guard(this.#deps.tokens.markUsed(realm, token.hash, this.#now()));
    if (token.markEmailVerified === true && !user.emailVerified) await guard(this.#deps.users.update(realm, user.id, { emailVerified: true }));
    await this.#record(user, context, 'RESET_PASSWORD');
    return { redirect: token.redirectUri === undefined ? undefined : this.#redirectWith(token, user), user };
  }

  /**
   * Authgear's code: set the new password with the code mailed to the user.
   * Wrong codes count; after the realm's limit the code is burnt.
   *
   * @throws InvalidCodeError (the same for an unknown user), InvalidPasswordError, ConflictError
   */
  async redeemCode(realm: string, identifier: Identifier, code: string, password: string, context: AuditContext): Promise<void> {
    const user = await this.#find(realm, identifier);
    const token = user ? await guard(this.#deps.tokens.findForUser(realm, user.id)) : null;
    const usable = token?.kind === 'code' && token.usedAt === undefined && token.expiresAt > this.#now();
    if (!user?.enabled || !token || !usable) throw new InvalidCodeError();
    if (user.passwordChangedAt !== undefined && user.passwordChangedAt > token.createdAt) throw new InvalidCodeError();
    if (!sameHash(codeHash(realm, user.id, code), token.hash)) {
      const attempts = await guard(this.#deps.tokens.countAttempt(realm, token.hash));
      if (attempts >= this.#deps.realmOf(realm).recovery.codeAttempts) await guard(this.#deps.tokens.markUsed(realm, token.hash, this.#now()));
      await this.#record(user, context, 'RESET_PASSWORD_ERROR', 'invalid_code');
      throw new InvalidCodeError();
    }
    await this.#deps.accounts.setPassword(user, password, { temporary: false, source: 'recovery' }, context);
    await guard(this.#deps.tokens.markUsed(realm, token.hash, this.#now()));
    await this.#record(user, context, 'RESET_PASSWORD');
  }

  async #forgotInBackground(realm: string, request: { identifier: Identifier; method: 'link' | 'code'; redirectUri?: string | undefined }, lifespan: number, context: AuditContext): Promise<void> {
    const user = await this.#find(realm, request.identifier);
    if (!user?.enabled || user.email === undefined) return;
    const minutes = Math.round(lifespan / 60);
    try {
      if (request.method === 'code') {
        const code = String(randomInt(10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
        await this.#issue(user, 'code', codeHash(realm, user.id, code), lifespan, {});
        await this.#mail(user, 'reset-code', { code, expiresInMinutes: minutes });
      } else {
        const link = await this.#issueLink(user, lifespan, { redirectUri: request.redirectUri });
        await this.#mail(user, 'reset-link', { link, expiresInMinutes: minutes });
      }
    } catch (error) {
      await this.#record(user, context, 'SEND_RESET_PASSWORD_ERROR', error instanceof MailDeliveryError || error instanceof MailNotConfiguredError ? 'email_send_failed' : 'server_error');
      throw error;
    }
    await this.#record(user, context, 'SEND_RESET_PASSWORD');
  }

  async #issueLink(user: UserRecord, lifespanSeconds: number, extra: Pick<ActionToken, 'redirectUri' | 'markEmailVerified' | 'includeEmail'>): Promise<string> {
    const page = this.#deps.pageUrl(user.realm);
    if (page === undefined) throw new InvalidRequestError('Links need the public URL of this service (options.publicUrl, PUBLIC_URL); it is not configured.');
    const key = randomBytes(32).toString('base64url');
    await this.#issue(user, 'link', sha256(key), lifespanSeconds, extra);
    return `${page}?key=${key}`;
  }

  async #issue(user: UserRecord, kind: ActionToken['kind'], hash: string, lifespanSeconds: number, extra: Pick<ActionToken, 'redirectUri' | 'markEmailVerified' | 'includeEmail'>): Promise<void> {
    const now = this.#now();
    await guard(
      this.#deps.tokens.issue({ realm: user.realm, userId: user.id, kind, hash, createdAt: now, expiresAt: new Date(now.getTime() + lifespanSeconds * 1000), attempts: 0, ...extra }),
    );
  }

  async #mail(user: UserRecord, kind: MailKind, values: Record<string, string | number>): Promise<void> {
    if (user.email === undefined) throw new InvalidRequestError('The user has no email address.');
    await this.#deps.mailer.send({ realm: user.realm, to: user.email, locale: user.locale, kind, values: { username: user.username, ...values } });
  }

  /** The normalised URL to store and later redirect to; throws when it is not allowed. */
  #checkRedirect(realm: string, uri: string, clientId: string | undefined): string {
    const url = this.#deps.redirectAllowed(realm, uri, clientId);
    if (url === undefined) {
      throw new InvalidRequestError(`The redirect URI "${uri.slice(0, 200)}" is not among the ${clientId === undefined ? "realm's clients'" : `client "${clientId}"'s`} redirect URIs.`);
    }
    return url;
  }

  /** Auth0's result_url query: `success=true`, and `email` when the ticket asked for it. */
  #redirectWith(token: ActionToken, user: UserRecord): string {
    const url = new URL(token.redirectUri ?? '');
    url.searchParams.set('success', 'true');
    if (token.includeEmail === true && user.email !== undefined) url.searchParams.set('email', user.email);
    return url.toString();
  }

  async #user(realm: string, userId: string): Promise<UserRecord> {
    const user = await guard(this.#deps.users.findById(realm, userId));
    if (!user) throw new UserNotFoundError(realm);
    return user;
  }

  async #find(realm: string, identifier: Identifier): Promise<UserRecord | null> {
    if ('username' in identifier) return guard(this.#deps.users.findByUsername(realm, identifier.username.toLowerCase()));
    const [user] = await guard(this.#deps.users.find(realm, { email: { value: identifier.email, mode: 'exact' } }, { first: 0, max: 1 }));
    return user ?? null;
  }

  async #record(user: UserRecord, context: AuditContext, type: 'SEND_RESET_PASSWORD' | 'SEND_RESET_PASSWORD_ERROR' | 'RESET_PASSWORD' | 'RESET_PASSWORD_ERROR', error?: string): Promise<void> {
    await this.#events.record({ type, realm: user.realm, userId: user.id, clientId: context.clientId, ip: context.ip, time: this.#now(), error });
  }
}
