/**
 * The calls a native (or mobile) app makes to password-resources, and every
 * answer of the contract (openapi.yaml) turned into what the app does next.
 */

/** A rule of the realm's password policy, or a rule a new password broke. */
export interface PolicyRule {
  readonly policy: string;
  readonly parameter?: number | string;
  readonly message: string;
}

/** What an answer asks the app to do. */
export type Answer =
  | { readonly kind: 'done' }
  /** 401 invalid_current_password: ask for the current password again. */
  | { readonly kind: 'wrong-current-password'; readonly message: string }
  /** 400 invalid_password: show every broken rule at once. */
  | { readonly kind: 'policy-violations'; readonly violations: readonly PolicyRule[] }
  /** 401 insufficient_user_authentication (RFC 9470): sign in again within `maxAge` seconds, then retry. */
  | { readonly kind: 'step-up'; readonly maxAge: number }
  /** 429 too_many_failures: locked; try again after `Retry-After`. */
  | { readonly kind: 'locked'; readonly retryAfterSeconds: number; readonly message: string }
  /** 503 temporarily_unavailable: retry after `Retry-After`. */
  | { readonly kind: 'unavailable'; readonly retryAfterSeconds: number }
  /** 401 invalid_token: the token is refused (expired, or issued before the last password change): sign in again. */
  | { readonly kind: 'sign-in-again'; readonly message: string }
  /** Anything else: a mistake of the app's, or of the service's. */
  | { readonly kind: 'failed'; readonly status: number; readonly error: string; readonly message: string };

interface ErrorBody {
  readonly error?: string;
  readonly error_description?: string;
  readonly violations?: readonly PolicyRule[];
}

/** `Retry-After` in seconds (RFC 9110 allows a date too; the service sends seconds). */
function retryAfter(res: Response): number {
  const value = Number(res.headers.get('retry-after'));
  return Number.isFinite(value) && value >= 0 ? value : 5;
}

/** The `max_age` of an RFC 9470 challenge: `Bearer realm="demo", error="insufficient_user_authentication", ..., max_age="300"`. */
function maxAgeOf(res: Response): number {
  const match = /max_age="?(\d+)"?/.exec(res.headers.get('www-authenticate') ?? '');
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

async function answerOf(res: Response): Promise<Answer> {
  if (res.ok) return { kind: 'done' };
  const body = (await res.json().catch(() => ({}))) as ErrorBody;
  const message = body.error_description ?? res.statusText;
  switch (body.error ?? '') {
    case 'invalid_current_password':
      return { kind: 'wrong-current-password', message };
    case 'invalid_password':
      return { kind: 'policy-violations', violations: body.violations ?? [] };
    case 'insufficient_user_authentication':
      return { kind: 'step-up', maxAge: maxAgeOf(res) };
    case 'too_many_failures':
      return { kind: 'locked', retryAfterSeconds: retryAfter(res), message };
    case 'temporarily_unavailable':
      return { kind: 'unavailable', retryAfterSeconds: retryAfter(res) };
    case 'invalid_token':
      return { kind: 'sign-in-again', message };
    default:
      return { kind: 'failed', status: res.status, error: body.error ?? 'unknown', message };
  }
}

/** The account API of one realm at one service. */
export class AccountApi {
  readonly #base: string;

  /** @param serviceUrl where the service (or the gateway's prefix) is, e.g. `http://127.0.0.1:8080`. */
  constructor(serviceUrl: string, realm: string) {
    this.#base = `${serviceUrl.replace(/\/+$/, '')}/realms/${encodeURIComponent(realm)}/password-resources`;
  }

  async #post(token: string, path: string, body: unknown): Promise<Response> {
    return fetch(`${this.#base}/${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** The realm's rules, to show before the user types. */
  async policy(token: string): Promise<readonly PolicyRule[] | Answer> {
    const res = await fetch(`${this.#base}/password-policy`, { headers: { Authorization: `Bearer ${token}` } });
    return res.ok ? ((await res.json()) as { rules: PolicyRule[] }).rules : answerOf(res);
  }

  /** `reset-password`: 204 is `done`. */
  async changePassword(token: string, currentPassword: string, newPassword: string): Promise<Answer> {
    return answerOf(await this.#post(token, 'reset-password', { currentPassword, newPassword }));
  }

  /** `validate-password`: `true`/`false`, or what to do instead. */
  async validatePassword(token: string, password: string): Promise<boolean | Answer> {
    const res = await this.#post(token, 'validate-password', { password });
    return res.ok ? ((await res.json()) as { valid: boolean }).valid : answerOf(res);
  }
}
