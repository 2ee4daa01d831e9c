/**
 * Reads a Keycloak realm export as a stream: the top-level entries one by one
 * and the elements of its `users` list one by one, each handed over as soon as
 * it is complete, so memory holds one user (or one realm setting) at a time
 * however many users the export has.
 *
 * Why not a token streaming parser: stream-json 3.9 took 23 s for the 100,000
 * users (204 MB) of `npm run bench:import`'s export on this machine, 4,300
 * users/s before any write, while the import is to run at 5,000 users/s with
 * its writes. This scanner only finds where each value ends (strings skipped
 * by `indexOf`, brackets counted) and leaves each value to `JSON.parse`, which
 * is native and checks the value in full; the same export takes about 2 s.
 */

/** What the scanner found, in document order. */
export type ExportEntry =
  /** A top-level entry other than `users`, parsed. */
  | { readonly kind: 'setting'; readonly key: string; readonly value: unknown }
  /** The `users` list begins: every entry before it has been handed over. */
  | { readonly kind: 'users' }
  /** One element of `users` (`index` from 0), parsed, or why it is not JSON. */
  | { readonly kind: 'user'; readonly index: number; readonly value: unknown; readonly error?: undefined }
  | { readonly kind: 'user'; readonly index: number; readonly value?: undefined; readonly error: string };

/** The document is not a JSON object, or breaks off; `offset` is the byte where it went wrong. */
export class ExportSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    /** The document is a JSON list (of realms, as `kc.sh export` without `--realm` once wrote). */
    readonly list = false,
  ) {
    super(message);
    this.name = 'ExportSyntaxError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const BOM = [0xef, 0xbb, 0xbf];

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Ends a number, `true`, `false` or `null`. */
function endsScalar(byte: number): boolean {
  return isSpace(byte) || byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET;
}

/** Where the scanner is in the document's outline. */
type Place = 'document' | 'key' | 'key-or-end' | 'colon' | 'value' | 'after-value' | 'user-or-end' | 'user' | 'after-user' | 'end';

/** How far the value being read has been scanned: resume there, at that bracket depth. */
interface Progress {
  resumeAt: number;
  depth: number;
}

/**
 * Where the value starting at `start` ends, or -1 when `buffer` stops first
 * (then `progress` says where to go on). Strings are skipped whole, brackets
 * counted; whether the value is well formed is `JSON.parse`'s to say.
 */
function valueEnd(buffer: Buffer, start: number, progress: Progress): number {
  const first = buffer[start];
  if (first === QUOTE) {
    const end = stringEnd(buffer, start, Math.max(progress.resumeAt, start + 1));
    if (end === -1) progress.resumeAt = buffer.length;
    return end;
  }
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    for (let i = Math.max(progress.resumeAt, start + 1); i < buffer.length; i += 1) if (endsScalar(buffer[i] ?? 0)) return i;
    progress.resumeAt = buffer.length;
    return -1;
  }
  let i = Math.max(progress.resumeAt, start);
  while (i < buffer.length) {
    const byte = buffer[i];
    if (byte === QUOTE) {
      const end = stringEnd(buffer, i, i + 1);
      if (end === -1) {
        // Inside a string: scan it again from its opening quote.
        progress.resumeAt = i;
        return -1;
      }
      i = end;
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) progress.depth += 1;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      progress.depth -= 1;
      if (progress.depth === 0) return i + 1;
    }
    i += 1;
  }
  progress.resumeAt = buffer.length;
  return -1;
}

/** Just past the quote closing the string opened at `open` (searching from `from`), or -1. */
function stringEnd(buffer: Buffer, open: number, from: number): number {
  let i = from;
  for (;;) {
    const quote = buffer.indexOf(QUOTE, i);
    if (quote === -1) return -1;
    let backslashes = 0;
    for (let j = quote - 1; j > open && buffer[j] === BACKSLASH; j -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/**
 * The entries of the JSON object read from `chunks`, `users` element by
 * element. A user that is not JSON is handed over with the reason, and the
 * scan goes on after it.
 *
 * @throws ExportSyntaxError when the document is not a JSON object, its
 *   outline is broken, or it ends early.
 */
export async function* scanExport(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<ExportEntry> {
  let buffer: Buffer = Buffer.alloc(0);
  /** Bytes dropped from the front of `buffer` so far: positions in errors are in the whole document. */
  let dropped = 0;
  let place: Place = 'document';
  let pos = 0;
  /** The current value's start, and how far it has been scanned with what depth. */
  let valueStart = -1;
  const progress: Progress = { resumeAt: 0, depth: 0 };
  let key = '';
  let userIndex = 0;

  const fail = (message: string, at: number, list = false): never => {
    throw new ExportSyntaxError(`${message} at byte ${dropped + at}`, dropped + at, list);
  };
  const unexpected = (at: number, expected: string): never => {
    const byte = buffer[at];
    return fail(`expected ${expected}, found ${byte === undefined ? 'the end' : JSON.stringify(String.fromCharCode(byte))}`, at);
  };

  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    // Keep only what is not handed over yet: the value being read, or nothing.
    const keep = valueStart === -1 ? pos : valueStart;
    buffer = keep < buffer.length ? Buffer.concat([buffer.subarray(keep), bytes]) : bytes;
    dropped += keep;
    pos -= keep;
    if (valueStart !== -1) {
      progress.resumeAt -= keep;
      valueStart = 0;
    }

    while (pos < buffer.length) {
      if (valueStart === -1) {
        const byte = buffer[pos] ?? 0;
        if (isSpace(byte)) {
          pos += 1;
          continue;
        }
        switch (place) {
          case 'document':
            // A UTF-8 byte order mark, as Windows editors write one.
            if (dropped + pos < 3 && byte === BOM[dropped + pos]) {
              pos += 1;
              continue;
            }
            if (byte !== OPEN_BRACE) {
              if (byte === OPEN_BRACKET) fail('the document is a list, not an object', pos, true);
              unexpected(pos, 'a JSON object');
            }
            place = 'key-or-end';
            pos += 1;
            continue;
          case 'key-or-end':
          case 'key':
            if (byte === CLOSE_BRACE && place === 'key-or-end') {
              place = 'end';
              pos += 1;
              continue;
            }
            if (byte !== QUOTE) unexpected(pos, 'a key');
            valueStart = pos;
            progress.resumeAt = pos + 1;
            break;
          case 'colon':
            if (byte !== COLON) unexpected(pos, '":"');
            place = 'value';
            pos += 1;
            continue;
          case 'value':
            if (key === 'users' && byte === OPEN_BRACKET) {
              yield { kind: 'users' };
              place = 'user-or-end';
              pos += 1;
              continue;
            }
            valueStart = pos;
            progress.resumeAt = pos;
            progress.depth = 0;
            break;
          case 'after-value':
            if (byte === COMMA) place = 'key';
            else if (byte === CLOSE_BRACE) place = 'end';
            else unexpected(pos, '"," or "}"');
            pos += 1;
            continue;
          case 'user-or-end':
          case 'user':
            if (byte === CLOSE_BRACKET && place === 'user-or-end') {
              place = 'after-value';
              pos += 1;
              continue;
            }
            valueStart = pos;
            progress.resumeAt = pos;
            progress.depth = 0;
            break;
          case 'after-user':
            if (byte === COMMA) place = 'user';
            else if (byte === CLOSE_BRACKET) place = 'after-value';
            else unexpected(pos, '"," or "]" in "users"');
            pos += 1;
            continue;
          case 'end':
            unexpected(pos, 'nothing after the closing "}"');
        }
      }

      // Reading a key or a value from valueStart.
      const end = place === 'key' || place === 'key-or-end' ? stringEnd(buffer, valueStart, progress.resumeAt) : valueEnd(buffer, valueStart, progress);
      if (end === -1) {
        if (place === 'key' || place === 'key-or-end') progress.resumeAt = buffer.length;
        pos = buffer.length;
        break;
      }
      const text = buffer.toString('utf8', valueStart, end);
      const at = valueStart;
      valueStart = -1;
      pos = end;
      if (place === 'key' || place === 'key-or-end') {
        try {
          key = JSON.parse(text) as string;
        } catch {
          fail('a key is not a JSON string', at);
        }
        place = 'colon';
      } else if (place === 'value') {
        let value: unknown;
        try {
          value = JSON.parse(text) as unknown;
        } catch (error) {
          fail(`"${key}" is not JSON (${(error as Error).message})`, at);
        }
        yield { kind: 'setting', key, value };
        place = 'after-value';
      } else {
        let entry: ExportEntry;
        try {
          entry = { kind: 'user', index: userIndex, value: JSON.parse(text) as unknown };
        } catch (error) {
          entry = { kind: 'user', index: userIndex, error: `not JSON (${(error as Error).message})` };
        }
        userIndex += 1;
        yield entry;
        place = 'after-user';
      }
    }
  }
  if (valueStart !== -1 && place === 'value') {
    // A number ends the document only if the object is closed after it, so this is a break-off either way.
    fail(`the document ends inside "${key}"`, valueStart);
  }
  if (place === 'document') fail('the document is empty', pos);
  if (place === 'user-or-end' || place === 'user' || place === 'after-user') fail(`the document ends inside "users", after ${userIndex} users`, pos);
  if (place !== 'end') fail('the document ends before its closing "}"', pos);
}
