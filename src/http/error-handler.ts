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
import { StoredCredentialError } from '../domain/store';
import { contextOf } from './context';
import { bearerChallenge } from './www-authenticate';

/** body-parser's and raw-body's errors (http-errors), recognised by their machine `type` and `status`, not by class. */
interface HttpParserError {
  readonly type?: unknown;
  readonly status?: unknown;
  readonly expose?: unknown;
}

function isHttpError(error: unknown): error is HttpParserError {
  return typeof error === 'object' && error !== null && ('type' in error || 'expose' in error);
}

/**
 * Every error body-parser and raw-body raise for a client's request, by type,
 * as the contract's 4xx. `stream.encoding.set` and `stream.not.readable` mean
 * our code read the body twice: a bug, so a 500.
 */
function fromParserError(error: HttpParserError): PasswordResourcesError | undefined {
  const options = { cause: error };
  switch (error.type) {
    case 'entity.too.large':
      return new PayloadTooLargeError('The request body is larger than the service accepts.', options);
    case 'parameters.too.many':
      return new PayloadTooLargeError('The form has more fields than the service accepts.', options);
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError('The request body must be UTF-8 encoded.', options);
    case 'encoding.unsupported':
      return new UnsupportedMediaTypeError('The request body\'s Content-Encoding is not supported; send it as identity, gzip, deflate or br.', options);
    case 'entity.parse.failed':
      return new InvalidRequestError('The request body is not valid JSON.', options);
    case 'querystring.parse.rangeError':
      return new InvalidRequestError('The form is nested deeper than the service accepts.', options);
    case 'entity.verify.failed':
      return new InvalidRequestError('The request body is not valid UTF-8.', options);
    case 'request.aborted':
    case 'request.size.invalid':
      return new InvalidRequestError('The request body was incomplete.', options);
    default:
      break;
  }
  // raw-body passes a decompression error (a corrupt gzip body) on as a 400 with no type.
  if (error.type === undefined && error.expose === true && typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
    return new InvalidRequestError('The request body could not be read.', options);
  }
  return undefined;
}

/** Translate anything thrown into one of our errors. */
export function toPasswordResourcesError(error: unknown): PasswordResourcesError {
  if (error instanceof PasswordResourcesError) return error;
  // Our data is broken, not the caller's request: loud, and never told apart from other 500s outside.
  if (error instanceof StoredCredentialError) return new ServerError({ detail: `stored credential of user ${error.userId} in realm ${error.realm} cannot be checked`, cause: error });
  if (isHttpError(error)) {
    const mapped = fromParserError(error);
    if (mapped) return mapped;
  }
  return new ServerError({ cause: error });
}

/**
 * The challenge parameters of an error, or `undefined` when it carries none.
 * No token, or a wrong current password (not a token problem): the bare
 * challenge (RFC 6750 section 3.1, design "Token rules"). A malformed request
 * to a bearer-protected route: `invalid_request` (RFC 6750 section 3.1).
 */
function challengeOf(error: PasswordResourcesError, bearerRoute: boolean): Record<string, string> | undefined {
  if (bearerRoute && error instanceof InvalidRequestError && error.status === 400) return { error: error.code, error_description: error.message };
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
 * challenge on 401 and 403 (and on 400 `invalid_request` of a bearer-protected
 * route), `Retry-After` on 503, never a stack trace.
 */
export function sendError(res: Response, error: PasswordResourcesError, realm: string | undefined, bearerRoute = false): void {
  res.status(error.status);
  res.setHeader('Cache-Control', 'no-store');
  if (realm !== undefined) {
    const challenge = challengeOf(error, bearerRoute);
    if (challenge) res.setHeader('WWW-Authenticate', bearerChallenge(realm, challenge));
  }
  if (error instanceof TemporarilyUnavailableError || error instanceof TooManyFailuresError) {
    res.setHeader('Retry-After', String(error.retryAfterSeconds));
  }
  // A 500 names the request, so whoever meets it can quote it to the operator, whose log line has the same id.
  const requestId = error.status === 500 ? res.getHeader('X-Request-Id') : undefined;
  res.json({
    error: error.code,
    error_description: typeof requestId === 'string' ? `${error.message} Request id: ${requestId}.` : error.message,
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
    const integrity = error instanceof StoredCredentialError ? { realm: error.realm, userId: error.userId } : {};
    const log = { requestId: res.getHeader('X-Request-Id'), status: mapped.status, error: mapped.code, detail: mapped.detail, ...integrity, err: mapped };
    // The description of a refused request may echo what it sent (a field's name): the code says enough.
    if (mapped.expose) logger.debug(log, 'request refused');
    else logger.error(log, error instanceof StoredCredentialError ? 'stored credential cannot be checked: integrity error' : 'request failed');
    sendError(res, mapped, realmOf(res), contextOf(res).bearer === true);
  };
}
