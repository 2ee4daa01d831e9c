/**
 * The three ways a Keycloak realm export reaches `import-keycloak`, read as one
 * stream of entries: a file (`kc.sh export --file F --users same_file`), a
 * directory (`kc.sh export --dir D --users different_files`: `<realm>-realm.json`
 * and `<realm>-users-N.json`), or standard input (`-`).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ExportSyntaxError, scanExport } from './export-scanner';
import type { ExportEntry } from './export-scanner';

/** The export cannot be imported as a whole: nothing has been written when this is thrown before the first user. */
export class KeycloakExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeycloakExportError';
  }
}

/** One user representation of the export, where it stands, and whether it is JSON at all. */
export interface ExportedUser {
  /** `users[12]`, or `acme-users-3.json users[12]` in a directory. */
  readonly position: string;
  /** Its length in the export, in bytes. */
  readonly bytes: number;
  readonly value: unknown;
  /** Set when the element is not JSON; `value` is then undefined. */
  readonly error: string | undefined;
}

/** A realm export opened for reading. */
export interface KeycloakExport {
  readonly layout: 'file' | 'directory' | 'stdin';
  /** Bytes the export has, when known up front (not on standard input). */
  readonly totalBytes: number | undefined;
  /** Bytes read so far. */
  bytesRead(): number;
  /**
   * The realm's name, read and checked before any user is handed over: a
   * document that is not a realm export is refused here.
   * @throws KeycloakExportError
   */
  realm(): Promise<string>;
  /** The users, in the export's order. @throws KeycloakExportError when the export breaks off or a file is not of this realm. */
  users(): AsyncGenerator<ExportedUser>;
  /** The realm's top-level settings; complete once `users()` has run to its end. */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** Settings that can hold as many entries as the realm has users: only their count is kept. */
const COUNTED_ONLY = new Set(['federatedUsers']);

async function* counted(stream: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/** Reads the entries of one JSON document, counting its bytes. */
class DocumentReader {
  readonly #entries: AsyncGenerator<ExportEntry>;
  readonly #name: string;

  constructor(stream: Readable, name: string, onBytes: (n: number) => void) {
    this.#name = name;
    // Counted as the scanner pulls them: a 'data' listener would set the stream flowing, past the import's pace.
    this.#entries = scanExport(counted(stream, onBytes));
  }

  async next(): Promise<ExportEntry | undefined> {
    try {
      const result = await this.#entries.next();
      return result.done === true ? undefined : result.value;
    } catch (error) {
      if (error instanceof ExportSyntaxError) {
        if (error.list) throw new KeycloakExportError(`${this.#name}: the file holds a list of realms; export one realm (kc.sh export --realm R) and import that`);
        throw new KeycloakExportError(`${this.#name}: not JSON (${error.message})`);
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code === 'string') throw new KeycloakExportError(`${this.#name}: cannot read the file (${code})`);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#entries.return(undefined);
  }
}

/**
 * Read the document's settings up to its `users` list (or its end), and check
 * that it is one realm's export.
 * @returns whether a `users` list follows
 */
async function readHead(reader: DocumentReader, settings: Record<string, unknown>, name: string): Promise<boolean> {
  for (let entry = await reader.next(); entry !== undefined; entry = await reader.next()) {
    if (entry.kind === 'users') {
      if (typeof settings.realm !== 'string' || settings.realm === '') {
        throw new KeycloakExportError(`${name}: not a Keycloak realm export: "users" comes before the "realm" name`);
      }
      return true;
    }
    if (entry.kind === 'setting') keep(settings, entry.key, entry.value);
  }
  return false;
}

function keep(settings: Record<string, unknown>, key: string, value: unknown): void {
  if (key === 'users') throw new KeycloakExportError('"users" is not a list');
  Object.defineProperty(settings, key, { value: COUNTED_ONLY.has(key) && Array.isArray(value) ? value.length : value, enumerable: true, writable: true, configurable: true });
}

function checkRealmName(settings: Readonly<Record<string, unknown>>, name: string): string {
  const realm = settings.realm;
  if (typeof realm !== 'string' || realm === '') throw new KeycloakExportError(`${name}: not a Keycloak realm export (it has no "realm" name)`);
  return realm;
}

/**
 * A single JSON document of realm settings and users (a file or standard input).
 */
function documentExport(stream: Readable, name: string, layout: 'file' | 'stdin', totalBytes: number | undefined): KeycloakExport {
  let read = 0;
  const settings: Record<string, unknown> = {};
  const reader = new DocumentReader(stream, name, (n) => (read += n));
  let hasUsers: Promise<boolean> | undefined;
  const head = (): Promise<boolean> => (hasUsers ??= readHead(reader, settings, name));
  return {
    layout,
    totalBytes,
    bytesRead: () => read,
    settings,
    async realm() {
      const users = await head();
      const realm = checkRealmName(settings, name);
      if (!users) {
        await reader.close();
        throw new KeycloakExportError(`realm "${realm}": the export has no "users" (export with --users same_file, or give the directory of --users different_files)`);
      }
      return realm;
    },
    async *users() {
      if (!(await head())) return;
      try {
        for (let entry = await reader.next(); entry !== undefined; entry = await reader.next()) {
          if (entry.kind === 'user') yield { position: `users[${entry.index}]`, bytes: entry.bytes, value: entry.value, error: entry.error };
          else if (entry.kind === 'setting') keep(settings, entry.key, entry.value);
        }
      } finally {
        await reader.close();
      }
    },
  };
}

/** Bytes per read of the export: 1 MiB, the size of the largest reads that still pay. */
const READ_SIZE = 1 << 20;

/**
 * Bytes per read of a file of `size` bytes: the file and one byte more (to
 * see its end), from 64 KiB to {@link READ_SIZE}. fs.ReadStream allocates
 * each read's buffer whole, so 1 MiB reads of the 100 KB files of a
 * `--users-per-file 50` export made 2 MiB of garbage per file: 4 GB per 100k
 * users, and three times the import's CPU time in collections.
 */
function readSize(size: number): number {
  return Math.min(READ_SIZE, Math.max(64 * 1024, size + 1));
}

/** Files stat'ed at once: all 20,000 files of a 1M-user export at once took 114 MiB of RSS. */
const STATS_AT_ONCE = 64;

/** The sizes of `files` in `dir`, {@link STATS_AT_ONCE} at a time. */
async function fileSizes(dir: string, files: readonly string[]): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < files.length; i += STATS_AT_ONCE) {
    sizes.push(...(await Promise.all(files.slice(i, i + STATS_AT_ONCE).map(async (name) => (await stat(join(dir, name))).size))));
  }
  return sizes;
}

/** `kc.sh export --dir`: `<realm>-realm.json`, then `<realm>-users-N.json` in the order of N. */
async function directoryExport(dir: string, chosenRealm: string | undefined): Promise<KeycloakExport> {
  const names = await readdir(dir);
  const realms = names.map((name) => /^(.+)-realm\.json$/.exec(name)?.[1]).filter((realm): realm is string => realm !== undefined);
  if (realms.length === 0) throw new KeycloakExportError(`${dir}: no <realm>-realm.json in the directory (not a kc.sh export --dir)`);
  const realm = chosenRealm ?? (realms.length === 1 ? realms[0] : undefined);
  if (realm === undefined) throw new KeycloakExportError(`${dir}: the directory holds the realms ${realms.join(', ')}; choose one with --realm`);
  if (!realms.includes(realm)) throw new KeycloakExportError(`${dir}: no ${realm}-realm.json (the directory holds ${realms.join(', ')})`);
  const prefix = `${realm}-users-`;
  const userFiles = names
    .filter((name) => name.startsWith(prefix) && /^\d+\.json$/.test(name.slice(prefix.length)))
    .sort((a, b) => Number(a.slice(prefix.length, -5)) - Number(b.slice(prefix.length, -5)));
  const federatedFiles = names.filter((name) => name.startsWith(`${realm}-federated-users-`));
  const files = [`${realm}-realm.json`, ...userFiles];
  const sizes = await fileSizes(dir, files);
  let read = 0;
  const settings: Record<string, unknown> = {};
  if (federatedFiles.length > 0) settings.federatedUsers = `${federatedFiles.length} file(s) ${realm}-federated-users-N.json`;
  let realmRead: Promise<void> | undefined;
  /** `--users realm_file` puts the users in the realm file itself. */
  let realmFileHasUsers = false;
  const sizeOf = new Map(files.map((name, i) => [name, sizes[i] ?? 0]));
  const open = (name: string): DocumentReader =>
    new DocumentReader(createReadStream(join(dir, name), { highWaterMark: readSize(sizeOf.get(name) ?? 0) }), name, (n) => (read += n));

  const readRealmFile = async (): Promise<void> => {
    const reader = open(`${realm}-realm.json`);
    try {
      // A realm file with users of its own (--users realm_file) is read in users().
      realmFileHasUsers = await readHead(reader, settings, `${realm}-realm.json`);
    } finally {
      await reader.close();
    }
    const named = checkRealmName(settings, `${realm}-realm.json`);
    if (named !== realm) throw new KeycloakExportError(`${realm}-realm.json: holds the realm "${named}", not "${realm}"`);
  };

  return {
    layout: 'directory',
    totalBytes: sizes.reduce((sum, size) => sum + size, 0),
    bytesRead: () => read,
    settings,
    async realm() {
      await (realmRead ??= readRealmFile());
      if (userFiles.length === 0 && !realmFileHasUsers) throw new KeycloakExportError(`realm "${realm}": the directory has no ${realm}-users-N.json (export with --users different_files)`);
      return realm;
    },
    async *users() {
      await (realmRead ??= readRealmFile());
      for (const name of userFiles.length === 0 && realmFileHasUsers ? [`${realm}-realm.json`] : userFiles) {
        const reader = open(name);
        const own: Record<string, unknown> = {};
        try {
          if (!(await readHead(reader, own, name))) continue;
          if (own.realm !== realm) throw new KeycloakExportError(`${name}: holds users of the realm ${JSON.stringify(own.realm)}, not "${realm}"`);
          for (let entry = await reader.next(); entry !== undefined; entry = await reader.next()) {
            if (entry.kind === 'user') yield { position: `${name} users[${entry.index}]`, bytes: entry.bytes, value: entry.value, error: entry.error };
          }
        } finally {
          await reader.close();
        }
      }
    },
  };
}

/**
 * Open the export at `path`: a file, a `kc.sh export --dir` directory, or `-`
 * for standard input. Reads nothing of the users yet.
 * @throws KeycloakExportError when the path cannot be read or is no export
 */
export async function openKeycloakExport(path: string, options: { readonly realm?: string | undefined; readonly stdin?: Readable } = {}): Promise<KeycloakExport> {
  if (path === '-') return documentExport(options.stdin ?? process.stdin, 'standard input', 'stdin', undefined);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new KeycloakExportError(`${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (info.isDirectory()) return directoryExport(path, options.realm);
  const stream = createReadStream(path, { highWaterMark: READ_SIZE });
  // A file that cannot be opened fails the first read; the scanner passes the error on.
  return documentExport(stream, path, 'file', info.size);
}
