import { InvalidPasswordError, InvalidRequestError } from '../../errors';
import type { PolicyViolation } from '../../errors';
import type { CredentialStore, CredentialUser, PasswordCheck } from '../../domain/credential-store';
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

/**
 * Keycloak as the credential store (sidecar mode). A password is checked
 * with a direct grant (Resource Owner Password Credentials) for the user with
 * the configured client, whose session is ended at once; it is set with the
 * admin API's `reset-password` under the client's service account, so
 * Keycloak's own policy, history and hashing apply.
 */
export function createKeycloakCredentialStore(settings: KeycloakCredentialStoreSettings): CredentialStore {
  const realmUrl = `${settings.serverUrl.replace(/\/+$/, '')}/realms/${encodeURIComponent(settings.realm)}`;
  const adminUrl = `${settings.serverUrl.replace(/\/+$/, '')}/admin/realms/${encodeURIComponent(settings.realm)}`;
  const client = { client_id: settings.clientId, client_secret: settings.clientSecret };
  let serviceToken: { value: string; until: number } | undefined;

  const send = async (url: string, init: RequestInit): Promise<Answer> => {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(settings.timeoutMs) });
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
  };

  const form = (fields: Record<string, string>): RequestInit => ({ method: 'POST', body: new URLSearchParams(fields) });

  const misconfigured = (what: string, answer: Answer): Error =>
    new Error(`Keycloak realm "${settings.realm}", client "${settings.clientId}": ${what} answered ${answer.status} ${JSON.stringify(answer.body)}`);

  const token = async (): Promise<string> => {
    if (serviceToken && serviceToken.until > Date.now()) return serviceToken.value;
    const answer = await send(`${realmUrl}/protocol/openid-connect/token`, form({ grant_type: 'client_credentials', ...client }));
    const body = answer.body as { access_token?: string; expires_in?: number } | undefined;
    if (answer.status !== 200 || typeof body?.access_token !== 'string') throw misconfigured("the service account's token request", answer);
    // Renewed 30 s before it expires, so a token never dies on its way.
    serviceToken = { value: body.access_token, until: Date.now() + Math.max((body.expires_in ?? 60) - 30, 5) * 1000 };
    return body.access_token;
  };

  const admin = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const call = async (): Promise<Answer> =>
      send(`${adminUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${await token()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const answer = await call();
    if (answer.status !== 401) return answer;
    // The service token was revoked or its key rotated: one fresh try.
    serviceToken = undefined;
    return call();
  };

  const endSession = async (refreshToken: unknown): Promise<void> => {
    if (typeof refreshToken !== 'string') return;
    try {
      const answer = await send(`${realmUrl}/protocol/openid-connect/logout`, form({ ...client, refresh_token: refreshToken }));
      if (answer.status !== 204 && answer.status !== 200) throw misconfigured('logout', answer);
    } catch (error) {
      settings.onLogoutError?.(error);
    }
  };

  /** Keycloak answers "Invalid user credentials" to a locked user even for the right password; its detector says which. */
  const lockedFor = async (user: CredentialUser): Promise<number | undefined> => {
    const answer = await admin('GET', `/attack-detection/brute-force/users/${encodeURIComponent(user.id)}`);
    if (answer.status !== 200) throw misconfigured('brute force status', answer);
    const state = answer.body as { disabled?: boolean; failedLoginNotBefore?: number };
    if (state.disabled !== true) return undefined;
    const notBefore = state.failedLoginNotBefore ?? 0;
    return Math.max(1, notBefore - Math.floor(Date.now() / 1000));
  };

  return {
    async findUser(id) {
      const answer = await admin('GET', `/users/${encodeURIComponent(id)}`);
      if (answer.status === 404) return null;
      if (answer.status !== 200) throw misconfigured('user lookup', answer);
      const user = answer.body as KeycloakUser;
      return { id: user.id, username: user.username, email: user.email, enabled: user.enabled, requiredActions: user.requiredActions ?? [] };
    },

    async verify(user, password): Promise<PasswordCheck> {
      const answer = await send(`${realmUrl}/protocol/openid-connect/token`, form({ grant_type: 'password', ...client, username: user.username, password, scope: 'openid' }));
      if (answer.status === 200) {
        await endSession((answer.body as { refresh_token?: unknown }).refresh_token);
        return { kind: 'valid' };
      }
      const error = answer.body as KeycloakError | undefined;
      if (error?.error !== 'invalid_grant') throw misconfigured('the direct grant', answer);
      switch (error.error_description) {
        // Keycloak checks the password first, then the required actions: the password was right.
        case NOT_FULLY_SET_UP:
          return { kind: 'valid' };
        case INVALID_CREDENTIALS: {
          const seconds = await lockedFor(user);
          return seconds === undefined ? { kind: 'invalid' } : { kind: 'locked', retryAfterSeconds: seconds };
        }
        case undefined:
        default:
          // "Account disabled" and the like: the user cannot use a password now.
          return { kind: 'invalid' };
      }
    },

    // Keycloak says what its own rules (passwordHistory among them) refuse only when a password is set.
    reuseViolations() {
      return Promise.resolve([]);
    },

    async setPassword(user, password, options) {
      if (options.expiresAt !== undefined) {
        throw new InvalidRequestError("Keycloak keeps this realm's passwords and cannot expire a temporary password; leave out temporaryExpiresIn.");
      }
      const answer = await admin('PUT', `/users/${encodeURIComponent(user.id)}/reset-password`, { type: 'password', value: password, temporary: options.temporary });
      if (answer.status === 204) return;
      const error = answer.body as KeycloakError | undefined;
      const key = error?.error ?? '';
      if (answer.status === 400 && key.startsWith('invalidPassword')) throw new InvalidPasswordError([violationOf(key, error?.error_description)]);
      throw misconfigured('reset-password', answer);
    },

    async ping() {
      const answer = await send(realmUrl, { method: 'GET' });
      if (answer.status !== 200) throw new StoreUnavailableError({ cause: misconfigured('the realm', answer) });
    },
  };
}

/** Keycloak reports one broken rule at a time, as a message key and a sentence. */
function violationOf(key: string, description: string | undefined): PolicyViolation {
  const policy = POLICY_OF_ERROR[key] ?? 'passwordPolicy';
  const message = description ?? 'The new password does not meet the password policy.';
  // "Invalid password: minimum length 12.", "must contain at least 2 numerical digits.": the rule's parameter.
  const number = /\b(\d+)\b/.exec(message)?.[1];
  return { policy, ...(number === undefined ? {} : { parameter: Number(number) }), message };
}
