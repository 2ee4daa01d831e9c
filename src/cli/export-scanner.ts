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
  /** One element of `users` (`index` from 0, `bytes` its length in the document), parsed, or why it is not JSON. */
  | { readonly kind: 'user'; readonly index: number; readonly bytes: number; readonly value: unknown; readonly error?: undefined }
  | { readonly kind: 'user'; readonly index: number; readonly bytes: number; readonly value?: undefined; readonly error: string };

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

/** The scanner's state between chunks: where it is in the outline, and the value it is reading. */
class Scanner {
  #buffer: Buffer = Buffer.alloc(0);
  /** Bytes dropped from the front of the buffer so far: positions in errors are in the whole document. */
  #dropped = 0;
  #place: Place = 'document';
  #pos = 0;
  /** Where the key or value being read starts in the buffer, or -1. */
  #valueStart = -1;
  readonly #progress: Progress = { resumeAt: 0, depth: 0 };
  #key = '';
  #userIndex = 0;

  /** The entries that `bytes` completes. */
  push(bytes: Buffer): ExportEntry[] {
    // Keep only what is not handed over yet: the value being read, or nothing.
    const keep = this.#valueStart === -1 ? this.#pos : this.#valueStart;
    this.#buffer = keep < this.#buffer.length ? Buffer.concat([this.#buffer.subarray(keep), bytes]) : bytes;
    this.#dropped += keep;
    this.#pos -= keep;
    if (this.#valueStart !== -1) {
      this.#progress.resumeAt -= keep;
      this.#valueStart = 0;
    }
    const entries: ExportEntry[] = [];
    while (this.#pos < this.#buffer.length) {
      if (this.#valueStart === -1) {
        if (this.#outline()) entries.push({ kind: 'users' });
      } else {
        const entry = this.#read();
        if (entry === 'more') break;
        if (entry) entries.push(entry);
      }
    }
    return entries;
  }

  /** The document has ended: it must have been whole. */
  end(): void {
    const place = this.#place;
    // A number ends the document only if the object is closed after it, so this is a break-off either way.
    if (this.#valueStart !== -1 && place === 'value') this.#fail(`the document ends inside "${this.#key}"`, this.#valueStart);
    if (place === 'document') this.#fail('the document is empty', this.#pos);
    if (place === 'user-or-end' || place === 'user' || place === 'after-user') this.#fail(`the document ends inside "users", after ${this.#userIndex} users`, this.#pos);
    if (place !== 'end') this.#fail('the document ends before its closing "}"', this.#pos);
  }

  #fail(message: string, at: number, list = false): never {
    throw new ExportSyntaxError(`${message} at byte ${this.#dropped + at}`, this.#dropped + at, list);
  }

  #unexpected(expected: string): never {
    const byte = this.#buffer[this.#pos];
    return this.#fail(`expected ${expected}, found ${byte === undefined ? 'the end' : JSON.stringify(String.fromCharCode(byte))}`, this.#pos);
  }

  /** A value (or key) starts at the current byte. */
  #startValue(resumeAt: number): void {
    this.#valueStart = this.#pos;
    this.#progress.resumeAt = resumeAt;
    this.#progress.depth = 0;
  }

  /** Move to `place` past the current byte. */
  #step(place: Place): void {
    this.#place = place;
    this.#pos += 1;
  }

  /** Take the byte at the current position between values. @returns whether the `users` list begins there */
  #outline(): boolean {
    const byte = this.#buffer[this.#pos] ?? 0;
    const absolute = this.#dropped + this.#pos;
    // Whitespace, and a UTF-8 byte order mark at the very start, as Windows editors write one.
    if (isSpace(byte) || (this.#place === 'document' && absolute < 3 && byte === BOM[absolute])) {
      this.#pos += 1;
      return false;
    }
    switch (this.#place) {
      case 'document':
        if (byte === OPEN_BRACKET) this.#fail('the document is a list, not an object', this.#pos, true);
        if (byte !== OPEN_BRACE) this.#unexpected('a JSON object');
        this.#step('key-or-end');
        return false;
      case 'key-or-end':
      case 'key':
        if (byte === CLOSE_BRACE && this.#place === 'key-or-end') this.#step('end');
        else if (byte === QUOTE) this.#startValue(this.#pos + 1);
        else this.#unexpected('a key');
        return false;
      case 'colon':
        if (byte !== COLON) this.#unexpected('":"');
        this.#step('value');
        return false;
      case 'value':
        if (this.#key === 'users' && byte === OPEN_BRACKET) {
          this.#step('user-or-end');
          return true;
        }
        this.#startValue(this.#pos);
        return false;
      case 'after-value':
        if (byte === COMMA) this.#step('key');
        else if (byte === CLOSE_BRACE) this.#step('end');
        else this.#unexpected('"," or "}"');
        return false;
      case 'user-or-end':
      case 'user':
        if (byte === CLOSE_BRACKET && this.#place === 'user-or-end') this.#step('after-value');
        else this.#startValue(this.#pos);
        return false;
      case 'after-user':
        if (byte === COMMA) this.#step('user');
        else if (byte === CLOSE_BRACKET) this.#step('after-value');
        else this.#unexpected('"," or "]" in "users"');
        return false;
      case 'end':
        return this.#unexpected('nothing after the closing "}"');
    }
  }

  /** Read on in the key or value being read: the entry it makes, nothing for a key, or `'more'` when the buffer ends first. */
  #read(): ExportEntry | undefined | 'more' {
    const isKey = this.#place === 'key' || this.#place === 'key-or-end';
    const at = this.#valueStart;
    const end = isKey ? stringEnd(this.#buffer, at, this.#progress.resumeAt) : valueEnd(this.#buffer, at, this.#progress);
    if (end === -1) {
      if (isKey) this.#progress.resumeAt = this.#buffer.length;
      this.#pos = this.#buffer.length;
      return 'more';
    }
    const text = this.#buffer.toString('utf8', at, end);
    this.#valueStart = -1;
    this.#pos = end;
    if (isKey) {
      try {
        this.#key = JSON.parse(text) as string;
      } catch {
        this.#fail('a key is not a JSON string', at);
      }
      this.#place = 'colon';
      return undefined;
    }
    if (this.#place === 'value') {
      this.#place = 'after-value';
      try {
        return { kind: 'setting', key: this.#key, value: JSON.parse(text) as unknown };
      } catch (error) {
        return this.#fail(`"${this.#key}" is not JSON (${(error as Error).message})`, at);
      }
    }
    this.#place = 'after-user';
    const index = this.#userIndex;
    this.#userIndex += 1;
    try {
      return { kind: 'user', index, bytes: end - at, value: JSON.parse(text) as unknown };
    } catch (error) {
      return { kind: 'user', index, bytes: end - at, error: `not JSON (${(error as Error).message})` };
    }
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
  const scanner = new Scanner();
  for await (const chunk of chunks) yield* scanner.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  scanner.end();
}
