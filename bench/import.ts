/**
 * `npm run bench:import`: how fast `import-keycloak` takes a Keycloak export,
 * and how much memory it needs, by size and layout.
 *
 * Generates Keycloak-shaped exports (test/helpers/keycloak-export.ts: a
 * pbkdf2-sha512 password, two password-history entries, attributes, roles and
 * groups per user) of each size, as one file and as a `kc.sh export --dir`
 * directory of 50 users per file (Keycloak's default), kept in the system's
 * temporary folder for the next run. Each import runs the built CLI as users
 * run it, in a process of its own, against an embedded database server
 * (src/db/mongo-server, the Rust SecantusDB when built) on an empty database,
 * and reports users/s and the process's peak RSS. JSON goes to bench/results/.
 *
 * The cores are often shared (CI, other jobs): the load average before each
 * run is printed, and so is the CPU time the import and the database server
 * used, from which "users/s on 2 free cores" follows: the users over the
 * larger of either process's CPU time and half their sum.
 *
 * Environment: BENCH_IMPORT_SIZES (default 10000,100000,1000000),
 * BENCH_IMPORT_LAYOUTS (default file,directory; also stdin),
 * BENCH_IMPORT_BATCH_SIZES (default the CLI's; several to compare).
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { startMongoServer } from '../src/db/mongo-server';
import { DEFAULT_BATCH_SIZE } from '../src/cli/import-keycloak';
import { writeDirectoryExport, writeSingleFileExport } from '../test/helpers/keycloak-export';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'main.js');
const REALM = 'bench';
const SIZES = (process.env.BENCH_IMPORT_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const LAYOUTS = (process.env.BENCH_IMPORT_LAYOUTS ?? 'file,directory').split(',') as Layout[];
const BATCH_SIZES = (process.env.BENCH_IMPORT_BATCH_SIZES ?? String(DEFAULT_BATCH_SIZE)).split(',').map(Number);
const CACHE = join(tmpdir(), 'password-resources-bench-import');

type Layout = 'file' | 'directory' | 'stdin';

interface Row {
  readonly users: number;
  readonly layout: Layout;
  readonly batchSize: number;
  readonly imported: number;
  readonly seconds: number;
  readonly usersPerSecond: number;
  readonly peakRssMiB: number;
  /** Of which V8's heap, and the memory outside it (Buffers), at their own peaks (sampled every 100 ms). */
  readonly peakHeapMiB: number;
  readonly peakExternalMiB: number;
  readonly loadBefore: number;
  readonly importCpuSeconds: number;
  readonly databaseCpuSeconds: number;
  /** What the CPU times allow on two cores of their own. */
  readonly usersPerSecondOnTwoFreeCores: number;
}

/** CPU seconds used so far by the database server listening on `port` (Linux /proc), or NaN. */
function databaseCpuSeconds(port: string): number {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!cmdline.some((arg) => arg.includes('secantusd')) || cmdline[cmdline.indexOf('--port') + 1] !== port || cmdline.includes('watchdog')) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      continue;
    }
  }
  return Number.NaN;
}

const log = (line: string): void => {
  process.stderr.write(`[bench:import] ${line}\n`);
};

/** The export of `users` users in `layout`, generated once and kept. */
async function exportOf(users: number, layout: 'file' | 'directory'): Promise<string> {
  const path = join(CACHE, `${users}-${layout}${layout === 'file' ? '.json' : ''}`);
  const done = `${path}.done`;
  if (existsSync(done)) return path;
  rmSync(path, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  const started = Date.now();
  if (layout === 'file') await writeSingleFileExport(path, { realm: REALM, users });
  else await writeDirectoryExport(path, { realm: REALM, users });
  writeFileSync(done, '');
  log(`generated ${users} users as a ${layout} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${path}`);
  return path;
}

/** Run the CLI's import; its peak RSS comes from bench/max-rss.cjs. */
interface Usage {
  readonly maxRss: number;
  readonly cpuSeconds: number;
  readonly peakHeap: number;
  readonly peakExternal: number;
}

async function runImport(uri: string, path: string, layout: Layout, batchSize: number): Promise<{ report: { imported: number; unchanged: number; skipped: number; seconds: number }; usage: Usage }> {
  const rssFile = join(CACHE, `rss-${process.pid}`);
  rmSync(rssFile, { force: true });
  const child = spawn(process.execPath, ['--require', join(__dirname, 'max-rss.cjs'), BIN, 'import-keycloak', layout === 'stdin' ? '-' : path, '--json', '--batch-size', String(batchSize)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MONGODB_URI: uri, REALMS: REALM, OIDC_ISSUER_BASE_URL: 'http://127.0.0.1:9/idp', BENCH_MAX_RSS_FILE: rssFile },
    stdio: [layout === 'stdin' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  if (layout === 'stdin' && child.stdin) createReadStream(path).pipe(child.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`import-keycloak exited ${code}: ${stderr}`);
  const usage = JSON.parse(readFileSync(rssFile, 'utf8')) as Usage;
  return { report: JSON.parse(stdout) as { imported: number; unchanged: number; skipped: number; seconds: number }, usage };
}

/** The rows as a Markdown table, and each layout's peak RSS at its largest size over that at its smallest. */
function table(database: string, rows: readonly Row[]): string[] {
  const lines = [
    `import-keycloak on ${database}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
    '',
    '| users | layout | batch | users/s | seconds | peak RSS (MiB) | peak heap / external (MiB) | load before | CPU s import / database | users/s on 2 free cores |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.users.toLocaleString('en')} | ${r.layout} | ${r.batchSize} | ${r.usersPerSecond.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${r.peakRssMiB} | ${r.peakHeapMiB} / ${r.peakExternalMiB} | ${r.loadBefore} | ` +
        `${r.importCpuSeconds} / ${r.databaseCpuSeconds} | ${r.usersPerSecondOnTwoFreeCores.toLocaleString('en')} |`,
    ),
  ];
  for (const layout of LAYOUTS) {
    const own = rows.filter((r) => r.layout === layout);
    const smallest = own.find((r) => r.users === Math.min(...own.map((o) => o.users)));
    const largest = own.find((r) => r.users === Math.max(...own.map((o) => o.users)));
    if (smallest && largest && smallest !== largest) {
      lines.push('', `${layout}: peak RSS at ${largest.users.toLocaleString('en')} users is ${(largest.peakRssMiB / smallest.peakRssMiB).toFixed(2)}x that at ${smallest.users.toLocaleString('en')} (target at most 1.25x)`);
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const db = await startMongoServer({ log });
  log(`database: ${db.kind}`);
  const rows: Row[] = [];
  try {
    let n = 0;
    for (const users of SIZES) {
      for (const layout of LAYOUTS) {
        const path = await exportOf(users, layout === 'directory' ? 'directory' : 'file');
        for (const batchSize of BATCH_SIZES) {
          const url = new URL(db.uri);
          url.pathname = `/bench_import_${(n += 1)}`;
          const loadBefore = loadavg()[0] ?? 0;
          const dbBefore = databaseCpuSeconds(url.port);
          const { report, usage } = await runImport(url.toString(), path, layout, batchSize);
          const { cpuSeconds } = usage;
          const dbSeconds = databaseCpuSeconds(url.port) - dbBefore;
          if (report.imported !== users) throw new Error(`imported ${report.imported} of ${users} users (${JSON.stringify(report)})`);
          const row: Row = {
            users,
            layout,
            batchSize,
            imported: report.imported,
            seconds: report.seconds,
            usersPerSecond: Math.round(report.imported / report.seconds),
            peakRssMiB: Math.round(usage.maxRss / 2 ** 20),
            peakHeapMiB: Math.round(usage.peakHeap / 2 ** 20),
            peakExternalMiB: Math.round(usage.peakExternal / 2 ** 20),
            loadBefore: Math.round(loadBefore * 10) / 10,
            importCpuSeconds: Math.round(cpuSeconds * 10) / 10,
            databaseCpuSeconds: Math.round(dbSeconds * 10) / 10,
            usersPerSecondOnTwoFreeCores: Math.round(report.imported / Math.max(cpuSeconds, dbSeconds, (cpuSeconds + dbSeconds) / 2)),
          };
          rows.push(row);
          log(
            `${users} users, ${layout}, batches of ${batchSize}: ${row.usersPerSecond} users/s, ${row.seconds.toFixed(1)} s, peak RSS ${row.peakRssMiB} MiB (heap ${row.peakHeapMiB}, external ${row.peakExternalMiB}) ` +
              `(load ${row.loadBefore}; CPU: import ${row.importCpuSeconds} s, database ${row.databaseCpuSeconds} s: ${row.usersPerSecondOnTwoFreeCores} users/s on 2 free cores)`,
          );
        }
      }
    }
  } finally {
    await db.stop();
  }

  const lines = table(db.kind, rows);
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const out = join(ROOT, 'bench', 'results', `import-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify({ database: db.kind, cores: cpus().length, rows }, null, 2));
  log(`results: ${out}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:import] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
