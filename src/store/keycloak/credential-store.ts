import { InvalidPasswordError, InvalidRequestError } from '../../errors';
import type { PolicyViolation } from '../../errors';
import type { CredentialStore, CredentialUser, PasswordCheck, SetPasswordOptions, VerifyOptions } from '../../domain/credential-store';
import { StoreUnavailableError } from '../../domain/store';

/** How to reach a Keycloak realm as a confidential client with a service account. */
export interface KeycloakCredentialStoreSettings {
  /** Keycloak's base URL, before `/realms`, e.g. `https://idp.example`. */
  readonly serverUrl: string;
  /** The Keycloak realm's name. */
  readonly realm: string;
  /**
   * A confidential client with "Direct access grants" (to check passwords) and
   * a service account holding `realm-management`'s `view-users` and
   * `manage-users` (to read users and set passwords).
   */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Deadline of each call to Keycloak, in ms. */
  readonly timeoutMs: number;
  /** Told when a session opened to check a password could not be ended (it expires on its own). */
  readonly onLogoutError?: (error: unknown) => void;
}

/** Keycloak's `invalid_grant` descriptions, which are all it says about a refused direct grant. */
const NOT_FULLY_SET_UP = 'Account is not fully set up';
const INVALID_CREDENTIALS = 'Invalid user credentials';

/** Keycloak's policy error keys, by the policy name they come from (Keycloak's PolicyError messages). */
const POLICY_OF_ERROR: Readonly<Record<string, string>> = {
  invalidPasswordMinLengthMessage: 'length',
  invalidPasswordMaxLengthMessage: 'maxLength',
  invalidPasswordMinDigitsMessage: 'digits',
  invalidPasswordMinLowerCaseCharsMessage: 'lowerCase',
  invalidPasswordMinUpperCaseCharsMessage: 'upperCase',
  invalidPasswordMinSpecialCharsMessage: 'specialChars',
  invalidPasswordNotUsernameMessage: 'notUsername',
  invalidPasswordNotContainsUsernameMessage: 'notContainsUsername',
  invalidPasswordNotEmailMessage: 'notEmail',
  invalidPasswordRegexPatternMessage: 'regexPattern',
  invalidPasswordHistoryMessage: 'passwordHistory',
  invalidPasswordBlacklistedMessage: 'passwordBlacklist',
  invalidPasswordGenericMessage: 'passwordPolicy',
};

interface KeycloakUser {
  id: string;
  username: string;
  email?: string;
  enabled: boolean;
  requiredActions?: string[];
}

interface KeycloakError {
  error?: string;
  error_description?: string;
  errorMessage?: string;
}

/** A Keycloak answer, read once. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** Keycloak's endpoints for one realm, called as the configured client: every answer read once, a failure to answer a 503. */
class KeycloakClient {
  readonly realmUrl: string;
  readonly #adminUrl: string;
  readonly #client: { client_id: string; client_secret: string };
  #serviceToken: { value: string; until: number } | undefined;

  constructor(readonly settings: KeycloakCredentialStoreSettings) {
    this.realmUrl = `${settings.serverUrl.replace(/\/+$/, '')}/realms/${encodeURIComponent(settings.realm)}`;
    this.#adminUrl = `${settings.serverUrl.replace(/\/+$/, '')}/admin/realms/${encodeURIComponent(settings.realm)}`;
    this.#client = { client_id: settings.clientId, client_secret: settings.clientSecret };
  }

  async send(url: string, init: RequestInit): Promise<Answer> {
    let res: Response;
    try {
      // The deadline, and the caller's signal when it gives one (its client went away: the call is dropped).
      const deadline = AbortSignal.timeout(this.settings.timeoutMs);
      res = await fetch(url, { ...init, signal: init.signal ? AbortSignal.any([deadline, init.signal]) : deadline });
    } catch (error) {
      throw new StoreUnavailableError({ cause: error });
    }
    // A Keycloak that is starting, overloaded or behind a failing proxy: fail closed, retry later.
    if (res.status >= 500) throw new StoreUnavailableError({ cause: new Error(`${init.method ?? 'GET'} ${url}: ${res.status}`) });
    const text = await res.text().catch((error: unknown) => {
      throw new StoreUnavailableError({ cause: error });
    });
    let body: unknown = undefined;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  }

  /** A form post to the realm's token endpoint (or another below `protocol/openid-connect`), as the client. */
  async openidConnect(endpoint: 'token' | 'logout', fields: Record<string, string>, signal?: AbortSignal): Promise<Answer> {
    return this.send(`${this.realmUrl}/protocol/openid-connect/${endpoint}`, { method: 'POST', body: new URLSearchParams({ ...this.#client, ...fields }), ...(signal ? { signal } : {}) });
  }

  misconfigured(what: string, answer: Answer): Error {
    return new Error(`Keycloak realm "${this.settings.realm}", client "${this.settings.clientId}": ${what} answered ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  async #token(): Promise<string> {
    if (this.#serviceToken && this.#serviceToken.until > Date.now()) return this.#serviceToken.value;
    const answer = await this.openidConnect('token', { grant_type: 'client_credentials' });
    const body = answer.body as { access_token?: string; expires_in?: number } | undefined;
    if (answer.status !== 200 || typeof body?.access_token !== 'string') throw this.misconfigured("the service account's token request", answer);
    // Renewed 30 s before it expires, so a token never dies on its way.
    this.#serviceToken = { value: body.access_token, until: Date.now() + Math.max((body.expires_in ?? 60) - 30, 5) * 1000 };
    return body.access_token;
  }

  /** The admin API, under the client's service account. */
  async admin(method: string, path: string, body?: unknown): Promise<Answer> {
    const call = async (): Promise<Answer> =>
      this.send(`${this.#adminUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${await this.#token()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const answer = await call();
    if (answer.status !== 401) return answer;
    // The service token was revoked or its key rotated: one fresh try.
    this.#serviceToken = undefined;
    return call();
  }

  /** End the session a direct grant opened; a failure is reported, never thrown (the session expires on its own). */
  async endSession(refreshToken: unknown): Promise<void> {
    if (typeof refreshToken !== 'string') return;
    try {
      const answer = await this.openidConnect('logout', { refresh_token: refreshToken });
      if (answer.status !== 204 && answer.status !== 200) throw this.misconfigured('logout', answer);
    } catch (error) {
      this.settings.onLogoutError?.(error);
    }
  }

  /** Keycloak answers "Invalid user credentials" to a locked user even for the right password; its detector says which. */
  async lockedFor(user: CredentialUser): Promise<number | undefined> {
    const answer = await this.admin('GET', `/attack-detection/brute-force/users/${encodeURIComponent(user.id)}`);
    if (answer.status !== 200) throw this.misconfigured('brute force status', answer);
    const state = answer.body as { disabled?: boolean; failedLoginNotBefore?: number };
    if (state.disabled !== true) return undefined;
    const notBefore = state.failedLoginNotBefore ?? 0;
    return Math.max(1, notBefore - Math.floor(Date.now() / 1000));
  }
}

/**
 * Keycloak as the credential store (sidecar mode). A password is checked
 * with a direct grant (Resource Owner Password Credentials) for the user with
 * the configured client, whose session is ended at once; it is set with the
 * admin API's `reset-password` under the client's service account, so
 * Keycloak's own policy, history and hashing apply.
 */
class KeycloakCredentialStore implements CredentialStore {
  readonly #keycloak: KeycloakClient;

  constructor(settings: KeycloakCredentialStoreSettings) {
    this.#keycloak = new KeycloakClient(settings);
  }

  async findUser(id: string): Promise<CredentialUser | null> {
    const answer = await this.#keycloak.admin('GET', `/users/${encodeURIComponent(id)}`);
    if (answer.status === 404) return null;
    if (answer.status !== 200) throw this.#keycloak.misconfigured('user lookup', answer);
    const user = answer.body as KeycloakUser;
    return { id: user.id, username: user.username, email: user.email, enabled: user.enabled, requiredActions: user.requiredActions ?? [] };
  }

  async verify(user: CredentialUser, password: string, options: VerifyOptions): Promise<PasswordCheck> {
    const answer = await this.#keycloak.openidConnect('token', { grant_type: 'password', username: user.username, password, scope: 'openid' }, options.signal);
    if (answer.status === 200) {
      await this.#keycloak.endSession((answer.body as { refresh_token?: unknown }).refresh_token);
      return { kind: 'valid' };
    }
    const error = answer.body as KeycloakError | undefined;
    if (error?.error !== 'invalid_grant') throw this.#keycloak.misconfigured('the direct grant', answer);
    switch (error.error_description) {
      // Keycloak checks the password first, then the required actions: the password was right.
      case NOT_FULLY_SET_UP:
        return { kind: 'valid' };
      case INVALID_CREDENTIALS: {
        const seconds = await this.#keycloak.lockedFor(user);
        return seconds === undefined ? { kind: 'invalid' } : { kind: 'locked', retryAfterSeconds: seconds };
      }
      case undefined:
      default:
        // "Account disabled" and the like: the user cannot use a password now.
        return { kind: 'invalid' };
    }
  }

  // Keycloak says what its own rules (passwordHistory among them) refuse only when a password is set.
  reuseViolations(): Promise<PolicyViolation[]> {
    return Promise.resolve([]);
  }

  async setPassword(user: CredentialUser, password: string, options: SetPasswordOptions): Promise<void> {
    if (options.expiresAt !== undefined) {
      throw new InvalidRequestError("Keycloak keeps this realm's passwords and cannot expire a temporary password; leave out temporaryExpiresIn.");
    }
    const answer = await this.#keycloak.admin('PUT', `/users/${encodeURIComponent(user.id)}/reset-password`, { type: 'password', value: password, temporary: options.temporary });
    if (answer.status === 204) return;
    const error = answer.body as KeycloakError | undefined;
    const key = error?.error ?? '';
    if (answer.status === 400 && key.startsWith('invalidPassword')) throw new InvalidPasswordError([violationOf(key, error?.error_description)]);
    throw this.#keycloak.misconfigured('reset-password', answer);
  }

  async ping(): Promise<void> {
    const answer = await this.#keycloak.send(this.#keycloak.realmUrl, { method: 'GET' });
    if (answer.status !== 200) throw new StoreUnavailableError({ cause: this.#keycloak.misconfigured('the realm', answer) });
  }
}

/** Keycloak as a realm's credential store (sidecar mode); see `KeycloakCredentialStore`. */
export function createKeycloakCredentialStore(settings: KeycloakCredentialStoreSettings): CredentialStore {
  return new KeycloakCredentialStore(settings);
}

/** Keycloak reports one broken rule at a time, as a message key and a sentence. */
function violationOf(key: string, description: string | undefined): PolicyViolation {
  const policy = POLICY_OF_ERROR[key] ?? 'passwordPolicy';
  const message = description ?? 'The new password does not meet the password policy.';
  // "Invalid password: minimum length 12.", "must contain at least 2 numerical digits.": the rule's parameter.
  const number = /\b(\d+)\b/.exec(message)?.[1];
  return { policy, ...(number === undefined ? {} : { parameter: Number(number) }), message };
}
