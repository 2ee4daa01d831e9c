import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import {
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidRequestError,
  InvalidPasswordError,
  InvalidTokenError,
  PasswordResourcesError,
  PayloadTooLargeError,
  ServerError,
  TemporarilyUnavailableError,
  TooManyFailuresError,
  UnsupportedMediaTypeError,
} from '../errors';
import { bearerChallenge } from './www-authenticate';

/** body-parser's errors, recognised by their machine `type`, not by class. */
interface HttpParserError {
  readonly type: string;
  readonly status?: number;
}

function isParserError(error: unknown): error is HttpParserError {
  return typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string';
}

/** Translate anything thrown into one of our errors. */
export function toPasswordResourcesError(error: unknown): PasswordResourcesError {
  if (error instanceof PasswordResourcesError) return error;
  if (isParserError(error)) {
    switch (error.type) {
      case 'entity.too.large':
        return new PayloadTooLargeError('The request body is larger than the service accepts.', { cause: error });
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new UnsupportedMediaTypeError('The request body must be UTF-8 encoded JSON.', { cause: error });
      case 'entity.parse.failed':
        return new InvalidRequestError('The request body is not valid JSON.', { cause: error });
      case 'entity.verify.failed':
        return new InvalidRequestError('The request body is not valid UTF-8.', { cause: error });
      case 'request.aborted':
      case 'request.size.invalid':
        return new InvalidRequestError('The request body was incomplete.', { cause: error });
      default:
        break;
    }
  }
  return new ServerError({ cause: error });
}

/**
 * The challenge parameters of an error, or `undefined` when it carries none.
 * No token, or a wrong current password (not a token problem): the bare
 * challenge (RFC 6750 section 3.1, design "Token rules").
 */
function challengeOf(error: PasswordResourcesError): Record<string, string> | undefined {
  if (error instanceof InsufficientUserAuthenticationError) {
    return { error: error.code, error_description: error.message, max_age: String(error.maxAgeSeconds) };
  }
  if (error instanceof InsufficientScopeError) {
    return { error: error.code, error_description: error.message, ...(error.scope === undefined ? {} : { scope: error.scope }) };
  }
  if (error instanceof InvalidTokenError && error.challengeError) return { error: error.code, error_description: error.message };
  return error.status === 401 ? {} : undefined;
}

/**
 * Write an error in the service's model: JSON, `Cache-Control: no-store`, the
 * challenge on 401, `Retry-After` on 503, never a stack trace.
 */
export function sendError(res: Response, error: PasswordResourcesError, realm: string | undefined): void {
  res.status(error.status);
  res.setHeader('Cache-Control', 'no-store');
  if (realm !== undefined) {
    const challenge = challengeOf(error);
    if (challenge) res.setHeader('WWW-Authenticate', bearerChallenge(realm, challenge));
  }
  if (error instanceof TemporarilyUnavailableError || error instanceof TooManyFailuresError) {
    res.setHeader('Retry-After', String(error.retryAfterSeconds));
  }
  res.json({
    error: error.code,
    error_description: error.message,
    ...(error instanceof InvalidPasswordError ? { violations: error.violations } : {}),
  });
}

/** The router's last middleware: maps every error, logs what the caller may not see. */
export function errorHandler(logger: Logger, realmOf: (res: Response) => string | undefined): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const mapped = toPasswordResourcesError(error);
    const log = { status: mapped.status, error: mapped.code, detail: mapped.detail, err: mapped.cause ?? mapped };
    if (mapped.expose) logger.debug(log, mapped.message);
    else logger.error(log, 'request failed');
    sendError(res, mapped, realmOf(res));
  };
}
