/** `import-keycloak`: the users of a Keycloak realm export, with their credentials as Keycloak stored them. */
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfig } from '../config/env';
import type { ServerConfig } from '../config/env';
import { StoreUnavailableError } from '../domain/store';
import { DEFAULT_BATCH_SIZE, KeycloakExportError, importKeycloakExport, openKeycloakExport } from './import-keycloak';
import type { ImportProgress, KeycloakExport, KeycloakImportReport, SkippedUser } from './import-keycloak';
import { progressView } from './import-progress';
import { CliError, count, print, withUserStore } from './support';

/**
 * How far V8 lets the heap grow past what the last full collection kept
 * before it collects again, in percent (V8's `--heap-growing-percent`).
 *
 * The import keeps a few batches alive (tens of MiB, whatever the export's
 * size), but V8, left to itself, grows the heap by up to 4x of that between
 * full collections, and lets it climb with the run's length: measured peak
 * RSS 194 MiB at 10k users and 308 MiB at 100k, the heap (108 to 197 MiB)
 * and the Buffers waiting for the same collections (46 to 72 MiB) growing
 * alike. From a file, 100k users: at 50 % the peak is 186 MiB (175 at 10k)
 * for 9.8 s of the import's CPU; at 20 %, 177 MiB for 11.4 s; V8's own
 * choice, 308 MiB for 7.9 s. README's Performance has the bench up to 1M.
 * A worker with a capped heap (`resourceLimits`) flattened it too, at
 * 235-245 MiB: its second isolate loads the CLI's modules again.
 */
export const HEAP_GROWING_PERCENT = 50;

function skippedLine(user: SkippedUser): string {
  return `skipped ${user.position}${user.username === undefined ? '' : ` "${user.username}"`}${user.id === undefined ? '' : ` (id ${user.id})`}: ${user.reason}`;
}

function warn(line: string): void {
  process.stderr.write(`password-resources: ${line}\n`);
}

/** The import itself, with a progress bar on a terminal, until its end or Ctrl-C. */
async function runImport(config: ServerConfig, source: KeycloakExport, batchSize: number, refuse: (error: unknown) => never): Promise<KeycloakImportReport> {
  const progress = progressView(process.stderr, source.totalBytes);
  let done: ImportProgress = { imported: 0, unchanged: 0, skipped: 0, bytesRead: 0 };
  const stop = new AbortController();
  const interrupt = (): void => {
    stop.abort();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let report;
  try {
    report = await withUserStore(config, (store) =>
      importKeycloakExport(source, store, {
        batchSize,
        signal: stop.signal,
        onProgress: (now) => {
          done = now;
          progress.update(now);
        },
        onSkipped: (user) => {
          warn(skippedLine(user));
        },
      }),
    ).catch((error: unknown) => {
      if (error instanceof StoreUnavailableError) {
        throw new CliError(`the database stopped answering after ${done.imported} users were imported (${error.cause instanceof Error ? error.cause.message : 'no answer'}); run the same command again to import the rest`);
      }
      return refuse(error);
    });
  } finally {
    progress.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  return report;
}

/** Import a realm export (a file, a `kc.sh export --dir` directory, or standard input) into the realm of that name. */
export function addImportCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('import-keycloak')
    .description(
      'import the users of a Keycloak realm export into the realm of that name, with their credentials as Keycloak stored them: ' +
        'a file (kc.sh export --file F --users same_file), a directory (kc.sh export --dir D --users different_files), or - for standard input. ' +
        'Safe to run again: users already imported are left as they are.',
    )
    .argument('<export>', 'the export file, the export directory, or - for standard input')
    .option('--realm <realm>', 'the realm to import from a directory that holds several (and the one the export must be of)')
    .option('--batch-size <n>', 'users per database write', String(DEFAULT_BATCH_SIZE))
    .option('--json', 'print the report as JSON')
    .action(async (path: string, opts: { realm?: string; batchSize: string; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      // The flag is read at each full collection, so setting it now takes effect for the import.
      setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
      const batchSize = count('--batch-size', opts.batchSize, 100_000);
      if (batchSize === 0) throw new CliError('--batch-size: must be an integer from 1 to 100000, got "0"', 2);
      if (path === '-' && process.stdin.isTTY) throw new CliError('-: nothing on standard input (pipe the export in)', 2);
      const name = path === '-' ? 'standard input' : path;
      const refuse = (error: unknown): never => {
        if (error instanceof KeycloakExportError) throw new CliError(error.message.startsWith(name) ? error.message : `${name}: ${error.message}`, 2);
        throw error;
      };
      const source = await openKeycloakExport(path, { realm: opts.realm }).catch(refuse);
      // The realm is read and checked before the database is touched.
      const realm = await source.realm().catch(refuse);
      if (opts.realm !== undefined && opts.realm !== realm) throw new CliError(`${name}: the export is of realm "${realm}", not "${opts.realm}" (--realm)`, 2);
      const served = Object.keys(config.resources.realms);
      if (served.length > 0 && !served.includes(realm)) throw new CliError(`${name}: the export's realm "${realm}" is not in REALMS (${served.join(', ')})`, 2);

      const report = await runImport(config, source, batchSize, refuse);
      for (const note of report.notCarriedOver) warn(`not carried over: ${note}`);
      if (Object.keys(report.config).length > 0) {
        warn(`realm "${realm}": the settings to use, for CONFIG_FILE:`);
        process.stderr.write(stringify({ realms: { [realm]: report.config } }));
      }
      if (opts.json) print(JSON.stringify(report));
      else print(`imported ${report.imported}, unchanged ${report.unchanged}, skipped ${report.skipped} (realm "${realm}")${report.interrupted ? ', interrupted' : ''}`);
      if (report.interrupted) {
        warn('interrupted: run the same command again to import the rest (users already imported stay as they are)');
        process.exitCode = 130;
      }
    });
}
