/**
 * What the service's log lines may hold. Never a request body, a password, a
 * token, a cookie or an `Authorization` value, on any path: errors are
 * serialised field by field (a parser's error carries the body it could not
 * parse, a JSON syntax error quotes it in its message), and `redact` blanks
 * the fields that hold secrets wherever a caller put them.
 */
import type { Logger } from 'pino';

/** Fields whose values never reach a log line, at the top or one level down (pino's redact paths). */
const SECRET_FIELDS = ['password', 'currentPassword', 'newPassword', 'confirm', 'csrf', 'token', 'access_token', 'refresh_token', 'id_token', 'authorization', 'cookie', 'body', 'rawBody', 'key'];

/** pino `redact` paths: each secret field at the top, one level down, and in any headers. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  '*.headers["proxy-authorization"]',
];

/** An error as a log line shows it. */
export interface LoggedError {
  readonly type: string;
  readonly message?: string;
  /** The stack's frames, without its first line (which repeats the message). */
  readonly stack?: string;
  readonly code?: string | number;
  readonly status?: number;
  /** body-parser's and raw-body's machine `type` (`entity.parse.failed`, ...). */
  readonly parserType?: string;
  readonly cause?: LoggedError;
}

/** How many causes deep a logged error goes. */
const MAX_CAUSES = 4;

/**
 * Messages that may quote the request: a JSON syntax error quotes the text it
 * could not parse (V8: `Unexpected token 'x', "{"password":..." is not valid
 * JSON`), body-parser's errors repeat it, and an error about the caller's own
 * request (`expose`, as http-errors and ours mark it) may echo what was sent
 * (an unknown field's name). Their type and code say enough.
 */
function messageMayQuoteInput(error: Error, parserType: string | undefined): boolean {
  return error instanceof SyntaxError || parserType !== undefined || (error as { expose?: unknown }).expose === true;
}

/**
 * An error reduced to fields that hold no secret: its class, message (unless
 * it may quote the request), stack frames, code, status and cause chain.
 * Nothing else it carries (a parser's `body`, a driver's documents, a jose
 * error's claims) is kept.
 */
export function serializeError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { type: error === null ? 'null' : typeof error };
  const fields = error as Error & { code?: unknown; status?: unknown; statusCode?: unknown; type?: unknown };
  const parserType = typeof fields.type === 'string' ? fields.type : undefined;
  const status = typeof fields.status === 'number' ? fields.status : typeof fields.statusCode === 'number' ? fields.statusCode : undefined;
  const code = typeof fields.code === 'string' || typeof fields.code === 'number' ? fields.code : undefined;
  const frames = error.stack?.split('\n').filter((line) => /^\s+at /.test(line)).join('\n');
  return {
    type: error.name,
    ...(messageMayQuoteInput(error, parserType) ? {} : { message: error.message }),
    ...(frames ? { stack: frames } : {}),
    ...(code === undefined ? {} : { code }),
    ...(status === undefined ? {} : { status }),
    ...(parserType === undefined ? {} : { parserType }),
    ...(error.cause !== undefined && depth < MAX_CAUSES ? { cause: serializeError(error.cause, depth + 1) } : {}),
  };
}

/**
 * `logger`, or a child of it whose error serialiser and redaction keep secrets
 * out of every line it writes. A host's own logger passes through here too:
 * its other settings (level, destination, bindings) stay.
 */
export function safeLogger(logger: Logger): Logger {
  return logger.child({}, { serializers: { err: serializeError }, redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } });
}
