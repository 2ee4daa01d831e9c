/**
 * The admin API, as `openapi.yaml` documents it, called from the console's
 * page with relative addresses (`../../realms/<realm>/...` from
 * `/admin/console/<realm>/`) and the administrator's bearer token: nothing
 * the console does is beyond what any client of the admin API can do.
 */

/** One broken rule of the realm's password policy (`invalid_password`). */
export interface Violation {
  readonly policy: string;
  readonly parameter?: number | string;
  readonly message: string;
}

/** A refusal of the API, with what the console tells the administrator. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    /** The API's `error` code, e.g. `invalid_password`. */
    readonly code: string,
    message: string,
    readonly violations: readonly Violation[] = [],
  ) {
    super(message);
  }
}

/** Keycloak's UserRepresentation, the fields the API keeps. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly enabled: boolean;
  readonly createdTimestamp?: number;
  readonly requiredActions: readonly string[];
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
}

/** What a create or an update sends (Keycloak's names). */
export interface UserChanges {
  username?: string;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  enabled?: boolean;
  requiredActions?: string[];
  attributes?: Record<string, string[]>;
}

export interface Credential {
  readonly id: string;
  readonly type: string;
  readonly createdDate: number;
  readonly temporary: boolean;
  readonly expiresAt?: number;
}

export interface BruteForceStatus {
  readonly numFailures: number;
  readonly numTemporaryLockouts: number;
  readonly disabled: boolean;
  readonly lastFailure: number;
  readonly lockedUntil?: number;
}

export interface UserEvent {
  readonly time: number;
  readonly type: string;
  readonly userId?: string;
  readonly clientId?: string;
  readonly ipAddress?: string;
  readonly error?: string;
}

export interface AdminEvent {
  readonly time: number;
  readonly operationType: string;
  readonly resourceType: string;
  readonly resourcePath: string;
  readonly authDetails: { readonly userId?: string; readonly clientId?: string; readonly ipAddress?: string };
  readonly error?: string;
}

/** What `GET /admin/realms/{realm}` answers an administrator who may view the realm. */
export interface RealmSettings {
  readonly realm: string;
  readonly passwordPolicy?: string;
  readonly smtpServer?: Readonly<Record<string, string>>;
  readonly actionTokenGeneratedByAdminLifespan?: number;
}

/** Filters of the event queries: type, and the day range (`yyyy-MM-dd`, UTC, both ends included). */
export interface EventFilter {
  readonly type?: string;
  readonly dateFrom?: string;
  readonly dateTo?: string;
  readonly user?: string;
  readonly first?: number;
  readonly max?: number;
}

/** How the API is reached: the token of the moment, and what to do when it is refused (401). */
export interface ApiSession {
  accessToken(): string | undefined;
  /** The token was refused: sign in again. */
  onUnauthorized(): void;
}

type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, String(one));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The admin API of one realm. */
export class AdminApi {
  /** `/admin/realms/<realm>`, wherever the service is mounted. */
  readonly #realmUrl: URL;

  constructor(
    readonly realm: string,
    private readonly session: ApiSession,
    page = document.baseURI,
  ) {
    this.#realmUrl = new URL(`../../realms/${encodeURIComponent(realm)}`, page);
  }

  /**
   * One call. `action` completes "You do not have permission to …" when the
   * API answers 403, so a refusal is a sentence, never a blank page.
   */
  async #call(method: string, path: string, action: string, options: { query?: Query; body?: unknown } = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = this.session.accessToken();
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const url = new URL(`${this.#realmUrl.pathname}${path === '' ? '' : `/${path}`}${queryString(options.query ?? {})}`, this.#realmUrl);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: options.body === undefined ? null : JSON.stringify(options.body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', `The service could not be reached to ${action}. Check the connection and try again.`);
    }
    if (res.ok) return res;
    throw await this.#refusal(res, action);
  }

  async #refusal(res: Response, action: string): Promise<ApiError> {
    let body: { error?: string; error_description?: string; violations?: Violation[] } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // Not the API's JSON (a proxy's page): the status says enough.
    }
    const code = body.error ?? 'unknown';
    const detail = body.error_description ?? '';
    if (res.status === 401) {
      this.session.onUnauthorized();
      return new ApiError(401, code, 'Your session has ended: sign in again.');
    }
    if (res.status === 403) return new ApiError(403, code, `You do not have permission to ${action}. ${detail}`.trim());
    if (res.status === 404) return new ApiError(404, code, detail || `Not found: could not ${action}.`);
    if (res.status === 429 || res.status === 503) {
      const after = res.headers.get('Retry-After');
      const text = detail || 'The service is busy.';
      return new ApiError(res.status, code, `${text}${/[.!?]$/.test(text) ? '' : '.'}${after === null ? '' : ` Try again in ${after} s.`}`);
    }
    return new ApiError(res.status, code, detail || `Could not ${action} (the service answered ${res.status}).`, body.violations ?? []);
  }

  async #json<T>(method: string, path: string, action: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    return (await (await this.#call(method, path, action, options)).json()) as T;
  }

  /** `GET /users`: by username, email or name (Keycloak's `search`), a page at a time. */
  searchUsers(search: string, first: number, max: number): Promise<User[]> {
    return this.#json('GET', 'users', 'search users', { query: { search: search.trim() === '' ? undefined : search.trim(), first, max } });
  }

  getUser(id: string): Promise<User> {
    return this.#json('GET', `users/${encodeURIComponent(id)}`, 'view this user');
  }

  /** `POST /users`; the new user's id, from `Location`. */
  async createUser(user: UserChanges): Promise<string> {
    const res = await this.#call('POST', 'users', 'create users', { body: user });
    const location = res.headers.get('Location') ?? '';
    return decodeURIComponent(location.slice(location.lastIndexOf('/') + 1));
  }

  async updateUser(id: string, changes: UserChanges): Promise<void> {
    await this.#call('PUT', `users/${encodeURIComponent(id)}`, 'change users', { body: changes });
  }

  async resetPassword(id: string, value: string, temporary: boolean): Promise<void> {
    await this.#call('PUT', `users/${encodeURIComponent(id)}/reset-password`, 'set passwords', { body: { type: 'password', value, temporary } });
  }

  credentials(id: string): Promise<Credential[]> {
    return this.#json('GET', `users/${encodeURIComponent(id)}/credentials`, "view this user's credentials");
  }

  async deleteCredential(id: string, credentialId: string): Promise<void> {
    await this.#call('DELETE', `users/${encodeURIComponent(id)}/credentials/${encodeURIComponent(credentialId)}`, 'delete credentials');
  }

  /** `PUT /users/{id}/execute-actions-email`: the mail with a link for `actions`, valid `lifespanSeconds`. */
  async executeActionsEmail(id: string, actions: readonly string[], lifespanSeconds: number): Promise<void> {
    await this.#call('PUT', `users/${encodeURIComponent(id)}/execute-actions-email`, 'send mails to users', { query: { lifespan: lifespanSeconds }, body: actions });
  }

  /** `POST /users/{id}/password-change-ticket`: a link to set a new password, for the administrator to pass on. */
  async passwordChangeTicket(id: string, resultUrl: string | undefined, ttlSeconds: number): Promise<string> {
    const body = { ttl_sec: ttlSeconds, ...(resultUrl === undefined ? {} : { result_url: resultUrl }) };
    const answer = await this.#json<{ ticket: string }>('POST', `users/${encodeURIComponent(id)}/password-change-ticket`, 'create password-change tickets', { body });
    return answer.ticket;
  }

  bruteForce(id: string): Promise<BruteForceStatus> {
    return this.#json('GET', `attack-detection/brute-force/users/${encodeURIComponent(id)}`, "view this user's lockout");
  }

  async unlock(id: string): Promise<void> {
    await this.#call('DELETE', `attack-detection/brute-force/users/${encodeURIComponent(id)}`, 'unlock users');
  }

  events(filter: EventFilter): Promise<UserEvent[]> {
    const { type, dateFrom, dateTo, user, first, max } = filter;
    return this.#json('GET', 'events', 'view events', { query: { type, dateFrom, dateTo, user, first, max } });
  }

  adminEvents(filter: EventFilter): Promise<AdminEvent[]> {
    const { type, dateFrom, dateTo, first, max } = filter;
    return this.#json('GET', 'admin-events', 'view admin events', { query: { operationTypes: type, dateFrom, dateTo, first, max } });
  }

  /** `GET /admin/realms/{realm}`: its password policy and SMTP settings. */
  realmSettings(): Promise<RealmSettings> {
    return this.#json('GET', '', "view the realm's settings");
  }

  /** `POST /testSMTPConnection` with the realm's own settings: a test mail to `to` (the administrator's address when undefined). */
  async testSmtp(to: string | undefined): Promise<void> {
    await this.#call('POST', 'testSMTPConnection', 'test the mail settings', { body: to === undefined ? {} : { to } });
  }
}
