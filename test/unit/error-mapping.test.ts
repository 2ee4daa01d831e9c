import { toPasswordResourcesError } from '../../src/http/error-handler';

/** An error shaped as http-errors makes it for body-parser: status, statusCode, expose, and the machine type. */
function createError(status: number, message: string, fields: { type?: string }): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: status < 500, ...fields });
}

/** Every error type body-parser 2 and raw-body 3 raise, as they raise it. */
const parserErrors: [string, number, string | undefined, number, string][] = [
  ['a body over the limit', 413, 'entity.too.large', 413, 'invalid_request'],
  ['a form with too many fields', 413, 'parameters.too.many', 413, 'invalid_request'],
  ['a charset other than UTF-8', 415, 'charset.unsupported', 415, 'invalid_request'],
  ['an unknown Content-Encoding', 415, 'encoding.unsupported', 415, 'invalid_request'],
  ['malformed JSON', 400, 'entity.parse.failed', 400, 'invalid_request'],
  ['a form nested too deep', 400, 'querystring.parse.rangeError', 400, 'invalid_request'],
  ['invalid UTF-8', 403, 'entity.verify.failed', 400, 'invalid_request'],
  ['a client that went away mid-body', 400, 'request.aborted', 400, 'invalid_request'],
  ['a body shorter or longer than its Content-Length', 400, 'request.size.invalid', 400, 'invalid_request'],
  ['a corrupt gzip body (raw-body passes zlib\'s error on untyped)', 400, undefined, 400, 'invalid_request'],
  ['a body read twice (our bug)', 500, 'stream.not.readable', 500, 'server_error'],
  ['a stream with an encoding set (our bug)', 500, 'stream.encoding.set', 500, 'server_error'],
];

describe('what a body parser\'s error becomes', () => {
  it.each(parserErrors)('%s is %i %s → %i', (_case, status, type, expected, code) => {
    const error = createError(status, 'parser says no', type === undefined ? {} : { type });
    const mapped = toPasswordResourcesError(error);
    expect({ status: mapped.status, code: mapped.code }).toEqual({ status: expected, code });
    expect(mapped.message).not.toContain('parser says no');
  });

  it('is a 500 for anything else, its message kept out of the answer', () => {
    const mapped = toPasswordResourcesError(new TypeError('secret detail'));
    expect({ status: mapped.status, code: mapped.code }).toEqual({ status: 500, code: 'server_error' });
    expect(mapped.message).not.toContain('secret');
  });
});
