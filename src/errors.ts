/**
 * The error model: one class per row of the table in `openapi.yaml`
 * (`components/schemas/Error`). `error` and `error_description` are public and
 * stable; `detail` and `cause` are for the logs only and never sent.
 */

/** Machine-readable error codes, as sent in the `error` field. */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_password'
  | 'invalid_token'
  | 'invalid_current_password'
  | 'insufficient_user_authentication'
  | 'insufficient_scope'
  | 'realm_not_found'
  | 'user_not_found'
  | 'not_found'
  | 'conflict'
  | 'too_many_failures'
  | 'temporarily_unavailable'
  | 'server_error';

/** One broken rule of a password policy. */
export interface PolicyViolation {
  /** The rule's name as written in the policy string, e.g. `length`. */
  readonly policy: string;
  /** The rule's parameter, when it has one, e.g. `12` for `length(12)`. */
  readonly parameter?: number | string;
  /** A sentence a user can read. */
  readonly message: string;
}

/** Base class of every error the service answers with. */
export abstract class PasswordResourcesError extends Error {
  abstract readonly status: number;
  abstract readonly code: ErrorCode;
  /** Private detail for the logs; never part of a response. */
  readonly detail: string | undefined;

  constructor(description: string, options?: { detail?: string; cause?: unknown }) {
    super(description, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = options?.detail;
  }

  /** Errors below 500 describe the caller's request and may be shown to it. */
  get expose(): boolean {
    return this.status < 500;
  }
}

/** 400: malformed JSON, a missing, mistyped or unknown field, a malformed `Authorization` header. */
export class InvalidRequestError extends PasswordResourcesError {
  readonly status: number = 400;
  readonly code = 'invalid_request' as const;
}

/** 413: the body is larger than the configured limit. */
export class PayloadTooLargeError extends InvalidRequestError {
  override readonly status = 413;
}

/** 415: the body is not `application/json`. */
export class UnsupportedMediaTypeError extends InvalidRequestError {
  override readonly status = 415;
}

/** 400: the new password breaks the realm's policy; lists every broken rule. */
export class InvalidPasswordError extends PasswordResourcesError {
  readonly status = 400;
  readonly code = 'invalid_password' as const;
  constructor(readonly violations: readonly PolicyViolation[]) {
    super(`The new password does not meet the password policy (${violations.length} ${violations.length === 1 ? 'rule' : 'rules'} broken).`);
  }
}

/**
 * 401: the bearer token was refused. Its challenge carries `error="invalid_token"`
 * (RFC 6750 section 3.1).
 */
export class InvalidTokenError extends PasswordResourcesError {
  readonly status = 401;
  readonly code = 'invalid_token' as const;
  /** Whether the challenge names the error; false when no token was sent at all. */
  readonly challengeError: boolean = true;
}

/** 401: no bearer token was sent; the challenge carries no error code (RFC 6750 section 3.1). */
export class MissingTokenError extends InvalidTokenError {
  override readonly challengeError = false;
  constructor() {
    super('A bearer token is required in the Authorization header.');
  }
}

/**
 * 401: the token is fine but the user signed in too long ago for this step
 * (RFC 9470); the challenge carries `max_age` so the client re-authenticates.
 */
export class InsufficientUserAuthenticationError extends PasswordResourcesError {
  readonly status = 401;
  readonly code = 'insufficient_user_authentication' as const;
  constructor(readonly maxAgeSeconds: number) {
    super(`This step needs a sign-in within the last ${maxAgeSeconds} seconds; sign in again.`);
  }
}

/** 403: the token lacks a scope, client or role the realm requires (RFC 6750 section 3.1). */
export class InsufficientScopeError extends PasswordResourcesError {
  readonly status = 403;
  readonly code = 'insufficient_scope' as const;
  constructor(description: string, readonly scope?: string) {
    super(description);
  }
}

/** 401: `reset-password` with a wrong current password. */
export class InvalidCurrentPasswordError extends PasswordResourcesError {
  readonly status = 401;
  readonly code = 'invalid_current_password' as const;
  constructor() {
    super('The current password is not correct.');
  }
}

/** 404: the realm in the path is not served here. */
export class RealmNotFoundError extends PasswordResourcesError {
  readonly status = 404;
  readonly code = 'realm_not_found' as const;
  constructor(realm: string) {
    super(`Realm "${realm.slice(0, 64)}" is not served here.`);
  }
}

/** 404: admin API: no user with this id in the realm; the description names the realm looked in. */
export class UserNotFoundError extends PasswordResourcesError {
  readonly status = 404;
  readonly code = 'user_not_found' as const;
  constructor(realm: string) {
    super(`User not found in realm "${realm}".`);
  }
}

/** 404: no route at this path (standalone server only; a mounted router leaves it to the host). */
export class NotFoundError extends PasswordResourcesError {
  readonly status = 404;
  readonly code = 'not_found' as const;
}

/** 409: a duplicate username or email, or the credential changed during the request. */
export class ConflictError extends PasswordResourcesError {
  readonly status = 409;
  readonly code = 'conflict' as const;
}

/** 429: the user is locked out by the brute force detector; no password was checked. */
export class TooManyFailuresError extends PasswordResourcesError {
  readonly status = 429;
  readonly code = 'too_many_failures' as const;
  constructor(
    readonly retryAfterSeconds: number,
    description = `Too many wrong passwords: this account is locked for ${retryAfterSeconds} more seconds.`,
  ) {
    super(description);
  }
}

/** 503: the database or the realm's key set cannot be reached; the caller may retry. */
export class TemporarilyUnavailableError extends PasswordResourcesError {
  readonly status = 503;
  readonly code = 'temporarily_unavailable' as const;
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfterSeconds: number = 5;
}

/** 500: anything unexpected. The description is fixed; the cause is only logged. */
export class ServerError extends PasswordResourcesError {
  readonly status = 500;
  readonly code = 'server_error' as const;
  constructor(options?: { detail?: string; cause?: unknown }) {
    super('The server could not complete the request.', options);
  }
}
