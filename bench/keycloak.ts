/**
 * `npm run bench:keycloak`: our `validate-password` beside a real Keycloak's
 * password grant, on the same cores, with the same load generator, in one run.
 *
 * Starts Keycloak (from `npm run keycloak:install`) with the JVM's full JIT
 * (C1 and C2: the tests' `-XX:TieredStopAtLevel=1` is overridden), a database
 * server and the service as shipped (the built CLI's `serve`, its own
 * process). Each side gets two realms: `same`, with `hashAlgorithm(argon2) and
 * hashIterations(5)` in both policies (argon2id m = 7168 KiB, t = 5, p = 1 on
 * both sides), and `defaults`, with no hashing rule on either side. Each realm
 * has one user with the same id and password on both sides (ours created by
 * the CLI, so hashed by the shipped code). A public client with direct access
 * grants gives the token our side is called with.
 *
 * Then, per realm, after a warm-up of each side: closed-loop rounds of the
 * native load generator (bench/loadgen, built with Go; `BENCH_LOAD_GENERATOR=
 * autocannon` for autocannon) with `BENCH_CONNECTIONS` connections for
 * `BENCH_ROUND_SECONDS`, alternating ours,
 * Keycloak's, and the argon2id hash-only limit (the shipped hasher alone, in a
 * child process with the threadpool `serve` gives it, as many at once as
 * cores). It prints checks/s, p50 and p99 per side and the ratios, and writes
 * JSON to bench/results/.
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_ROUND_SECONDS (default 15),
 * BENCH_WARMUP_SECONDS (default 15), BENCH_CONNECTIONS (default 4).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { describeHashScheme } from '../src/domain/hashing';
import type { HashScheme } from '../src/domain/hashing';
import { startMongoServer } from '../src/db/mongo-server';
import { startKeycloak } from '../scripts/keycloak';
import { KeycloakAdmin } from '../test/helpers/keycloak';
import { closedLoop, latenciesOf, percentile } from './load';
import type { BenchRequest, LoadResult } from './load';
import { installLoadGenerator, nativeClosedLoop } from './native-load';
import { hashLimit } from './fixtures';
import type { HashLimit } from './fixtures';
import { startService } from './service';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'main.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 15);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const CORES = availableParallelism();
/** `native` (bench/loadgen, Go) or `autocannon` (Node, in the bench's own process): one of them drives both sides for the whole run. */
const LOAD_GENERATOR = process.env.BENCH_LOAD_GENERATOR ?? 'native';
/** Keycloak's argon2 defaults (Argon2Parameters), which both sides use in realm `same`. */
const SAME_SCHEME: HashScheme = { algorithm: 'argon2', iterations: 5, memory: 7168, parallelism: 1 };
const SAME_POLICY = 'length(8) and hashAlgorithm(argon2) and hashIterations(5)';
const DEFAULT_POLICY = 'length(8)';
const CLIENT = 'bench-spa';
const USER = { username: 'bench-user', password: 'bench password 0000' } as const;
/** The full JIT: tiered compilation up to C2, the JVM's default, instead of the tests' C1 only. */
const FULL_JIT = '-XX:+TieredCompilation';

const log = (line: string): void => {
  process.stderr.write(`[bench:keycloak] ${line}\n`);
};
const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

interface Realm {
  readonly name: string;
  readonly label: string;
  readonly policy: string;
  readonly userId: string;
  /** Our side's token for the user, issued by Keycloak. */
  token: string;
  ourCredential: string;
  keycloakCredential: string;
}

interface Measured {
  readonly checksPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  /** CPU time per answered check, ms, by where it was spent. */
  readonly cpuPerCheck: Record<string, number>;
}

/** CPU time (user + system) of a process's threads so far, ms: the main thread's and the others' summed. */
function threadCpuMs(pid: number): { main: number; others: number } {
  const ticks = (stat: string): number => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  let main = 0;
  let others = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ms = ticks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      if (tid === String(pid)) main += ms;
      else others += ms;
    }
  } catch {
    // the process or a thread ended: what was read counts
  }
  return { main, others };
}

/** The processes whose command line matches `pattern` (pgrep -f). */
function pidsOf(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern]).toString().trim().split('\n').map(Number).filter((pid) => pid !== process.pid);
  } catch {
    return [];
  }
}

/** Where CPU goes, read before and after a round: named groups of processes. */
type CpuSampler = () => Record<string, number>;

function cpuSampler(groups: Record<string, { readonly pids: readonly number[]; readonly split?: boolean }>): CpuSampler {
  return () => {
    const sample: Record<string, number> = {};
    for (const [name, group] of Object.entries(groups)) {
      for (const pid of group.pids) {
        const { main, others } = threadCpuMs(pid);
        if (group.split) {
          sample[`${name} main thread`] = (sample[`${name} main thread`] ?? 0) + main;
          sample[`${name} other threads`] = (sample[`${name} other threads`] ?? 0) + others;
        } else sample[name] = (sample[name] ?? 0) + main + others;
      }
    }
    // The bench's own process: autocannon when it drives the load, else waiting on the native generator.
    const self = process.cpuUsage();
    sample[LOAD_GENERATOR === 'autocannon' ? 'load generator' : 'bench process'] = (self.user + self.system) / 1000;
    return sample;
  };
}

/** A closed loop of `seconds` with the run's load generator; `cpuMs`, the native generator's own CPU (autocannon's is the bench process's). */
type Load = (port: number, request: BenchRequest, seconds: number) => Promise<LoadResult & { cpuMs?: number }>;

async function loadGenerator(): Promise<{ load: Load; label: string }> {
  if (LOAD_GENERATOR === 'autocannon') {
    return { load: (port, request, seconds) => closedLoop({ port, connections: CONNECTIONS, seconds, next: () => request }), label: 'autocannon (in the bench process)' };
  }
  if (LOAD_GENERATOR !== 'native') throw new Error(`BENCH_LOAD_GENERATOR must be native or autocannon, got ${LOAD_GENERATOR}`);
  const binary = await installLoadGenerator(log);
  return { load: (port, request, seconds) => nativeClosedLoop(binary, { port, connections: CONNECTIONS, seconds, requests: [request] }), label: 'native load generator (bench/loadgen, Go)' };
}

async function measureRound(load: Load, port: number, request: BenchRequest, sample: CpuSampler): Promise<Measured> {
  const before = sample();
  const result = await load(port, request, ROUND_SECONDS);
  const after = sample();
  if (result.cpuMs !== undefined) after['load generator'] = (after['load generator'] ?? 0) + result.cpuMs;
  const ok = latenciesOf(result, [200]);
  const cpuPerCheck = Object.fromEntries(Object.keys(after).map((key) => [key, ((after[key] ?? 0) - (before[key] ?? 0)) / Math.max(ok.length, 1)]));
  return { checksPerSecond: ok.length / result.seconds, p50: percentile(ok, 50), p99: percentile(ok, 99), statuses: result.statuses, errors: result.errors, cpuPerCheck };
}

/** The shipped CLI with the bench's environment; resolves with its output, rejects on a non-zero exit. */
async function cli(args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`password-resources ${args[0] ?? ''} exited with ${String(code)}: ${output}`);
  return output;
}


function ourRequest(realm: Realm): BenchRequest {
  return {
    method: 'POST',
    path: `/realms/${realm.name}/password-resources/validate-password`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${realm.token}` },
    body: JSON.stringify({ password: USER.password }),
  };
}

function keycloakRequest(realm: Realm): BenchRequest {
  return {
    method: 'POST',
    path: `/realms/${realm.name}/protocol/openid-connect/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: CLIENT, username: USER.username, password: USER.password }).toString(),
  };
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

type Limit = HashLimit;
interface RealmResult {
  readonly ours: Measured[];
  readonly keycloak: Measured[];
  readonly limits: Limit[];
}

/** Realm `same` and realm `defaults` in Keycloak, each with the public client and the user. */
async function keycloakRealms(admin: KeycloakAdmin): Promise<Realm[]> {
  const realms: Realm[] = [];
  for (const [name, label, policy] of [
    ['same', '(a) same argon2id, m=7168 KiB t=5 p=1, both sides', SAME_POLICY],
    ['defaults', "(b) each side's defaults", DEFAULT_POLICY],
  ] as const) {
    // An hour of token life covers the run; brute force detection off, as in a new realm.
    await admin.createRealm(name, { passwordPolicy: policy, accessTokenLifespan: 3600 });
    await admin.createClient(name, { clientId: CLIENT, publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false });
    const userId = await admin.createUser(name, { username: USER.username, password: USER.password });
    const { body: credentials } = await admin.request<{ type: string; credentialData: string }[]>('GET', `/${name}/users/${userId}/credentials`);
    realms.push({ name, label, policy, userId, token: '', ourCredential: '', keycloakCredential: credentials.find((c) => c.type === 'password')?.credentialData ?? '?' });
  }
  return realms;
}

/** The same realms and users on our side, created by the shipped CLI; the environment `serve` is started with. */
async function ourRealms(realms: Realm[], databaseUri: string, keycloakUrl: string, scratch: string): Promise<Record<string, string>> {
  const uri = new URL(databaseUri);
  uri.pathname = '/bench_keycloak';
  const configFile = join(scratch, 'realms.json');
  writeFileSync(configFile, JSON.stringify({ realms: Object.fromEntries(realms.map((realm) => [realm.name, { passwordPolicy: realm.policy }])) }));
  const env = { MONGODB_URI: uri.toString(), REALMS: realms.map((realm) => realm.name).join(','), OIDC_ISSUER_BASE_URL: keycloakUrl, CONFIG_FILE: configFile };
  for (const realm of realms) {
    await cli(['create-user', '--realm', realm.name, '--username', USER.username, '--id', realm.userId, '--password', USER.password], env);
  }
  const connection = await mongoose.createConnection(uri.toString()).asPromise();
  try {
    for (const realm of realms) {
      const stored = await connection.collection('users').findOne({ realm: realm.name, userId: realm.userId });
      realm.ourCredential = (stored?.credential as { hash?: string } | undefined)?.hash?.replace(/\$[^$]*\$[^$]*$/, '$…') ?? '?';
    }
  } finally {
    await connection.close();
  }
  return env;
}

/** Warm-up, then rounds alternating ours, Keycloak's and the hash-only limit. */
async function runRealm(realm: Realm, sides: { load: Load; ourPort: number; kcPort: number; sampleOurs: CpuSampler; sampleKeycloak: CpuSampler }): Promise<RealmResult> {
  log(`${realm.name}: warm-up ${String(WARMUP_SECONDS)} s each side (JIT, caches, connections)`);
  await sides.load(sides.kcPort, keycloakRequest(realm), WARMUP_SECONDS);
  await sides.load(sides.ourPort, ourRequest(realm), WARMUP_SECONDS);
  const entry: RealmResult = { ours: [], keycloak: [], limits: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    const ours = await measureRound(sides.load, sides.ourPort, ourRequest(realm), sides.sampleOurs);
    const theirs = await measureRound(sides.load, sides.kcPort, keycloakRequest(realm), sides.sampleKeycloak);
    const limit = await hashLimit(SAME_SCHEME, CORES, ROUND_SECONDS);
    entry.ours.push(ours);
    entry.keycloak.push(theirs);
    entry.limits.push(limit);
    log(
      `${realm.name} round ${String(round)}: ours ${fmt(ours.checksPerSecond)}/s (p99 ${fmt(ours.p99)} ms, ${JSON.stringify(ours.statuses)}), ` +
        `Keycloak ${fmt(theirs.checksPerSecond)}/s (p99 ${fmt(theirs.p99)} ms, ${JSON.stringify(theirs.statuses)}), hash-only ${fmt(limit.checksPerSecond)}/s`,
    );
  }
  return entry;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const median = (values: readonly number[]): number => percentile(values, 50);

/** Throughput, latency and ratios, one block of rows per realm; the ratios of each realm. */
function throughputRows(realm: Realm, entry: RealmResult): { rows: string[]; ratio: number; ofLimit: number } {
  const ours = mean(entry.ours.map((m) => m.checksPerSecond));
  const theirs = mean(entry.keycloak.map((m) => m.checksPerSecond));
  const limit = mean(entry.limits.map((l) => l.checksPerSecond));
  const rounds = (list: readonly Measured[]): string => list.map((m) => fmt(m.checksPerSecond)).join(', ');
  const p = (list: readonly Measured[], key: 'p50' | 'p99'): string => fmt(median(list.map((m) => m[key])));
  const limits = `${entry.limits.map((l) => fmt(l.checksPerSecond)).join(', ')}; one hash ${fmt(median(entry.limits.map((l) => l.singleCheckMs)))} ms, CPU ${fmt(mean(entry.limits.map((l) => l.cpuMsPerCheck)), 2)} ms a check`;
  return {
    rows: [
      row([realm.label, 'ours: validate-password', fmt(ours), p(entry.ours, 'p50'), p(entry.ours, 'p99'), `**${fmt(ours / theirs, 2)}x**`, fmt(ours / limit, 2), rounds(entry.ours)]),
      row([realm.label, 'Keycloak: password grant', fmt(theirs), p(entry.keycloak, 'p50'), p(entry.keycloak, 'p99'), '', '', rounds(entry.keycloak)]),
      row([realm.label, 'argon2id hash-only limit (in-process)', fmt(limit), '-', '-', '', '1.00', limits]),
    ],
    ratio: ours / theirs,
    ofLimit: ours / limit,
  };
}

/** CPU ms per check by process, averaged over the rounds, and their total. */
function cpuParts(list: readonly Measured[]): { parts: (readonly [string, number])[]; total: number } {
  const keys = Object.keys(list[0]?.cpuPerCheck ?? {});
  const parts = keys.map((key) => [key, mean(list.map((m) => m.cpuPerCheck[key] ?? 0))] as const);
  return { parts, total: parts.reduce((sum, [, v]) => sum + v, 0) };
}

function cpuOf(list: readonly Measured[]): string {
  const { parts, total } = cpuParts(list);
  return `${parts.map(([key, v]) => `${key} ${fmt(v, 2)}`).join(', ')}; total ${fmt(total, 2)}`;
}

/**
 * The most ours can reach of the hash-only limit when every process shares
 * the same cores and they are the bottleneck: the CPU one check takes the
 * hash alone over the CPU one of our checks takes all processes together
 * (service, database, load generator).
 */
function cpuCeiling(entry: RealmResult): { ceiling: number; hashAlone: number; ours: number } {
  const hashAlone = mean(entry.limits.map((l) => l.cpuMsPerCheck));
  const ours = cpuParts(entry.ours).total;
  return { ceiling: hashAlone / ours, hashAlone, ours };
}

/** The printed report: throughput, CPU per check, the targets, the set-up. */
function report(realms: readonly Realm[], results: Readonly<Record<string, RealmResult>>, setUp: string): { table: string; targets: { target: string; measured: string; pass: boolean }[] } {
  const lines = [row(['realm', 'side', 'checks/s', 'p50 ms', 'p99 ms', 'ours / Keycloak', 'ours / hash-only limit', 'rounds (checks/s)']), row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---'])];
  const cpuLines = ['', row(['realm', 'side', 'CPU ms per check, by process (mean of rounds)']), row(['---', '---', '---'])];
  let same = { ratio: NaN, ofLimit: NaN, ceiling: { ceiling: NaN, hashAlone: NaN, ours: NaN } };
  for (const realm of realms) {
    const entry = results[realm.name];
    if (!entry) continue;
    const { rows, ratio, ofLimit } = throughputRows(realm, entry);
    if (realm.name === 'same') same = { ratio, ofLimit, ceiling: cpuCeiling(entry) };
    lines.push(...rows);
    cpuLines.push(row([realm.label, 'ours', cpuOf(entry.ours)]), row([realm.label, 'Keycloak', cpuOf(entry.keycloak)]));
  }
  const targets = [
    { target: 'validate-password >= 1.5x Keycloak, same argon2id parameters', measured: fmt(same.ratio, 2), pass: same.ratio >= 1.5 },
    { target: 'validate-password >= 0.9 of the argon2id hash-only limit', measured: fmt(same.ofLimit, 2), pass: same.ofLimit >= 0.9 },
  ];
  lines.push(...cpuLines, '', row(['target', 'measured', 'result']), row(['---', '---', '---']));
  for (const t of targets) lines.push(row([t.target, t.measured, t.pass ? 'pass' : 'MISS']));
  const { ceiling, hashAlone, ours } = same.ceiling;
  lines.push(
    '',
    `ceiling of ours / hash-only limit with service, database and load generator on the same cores: ${fmt(ceiling, 2)} ` +
      `(CPU per check: the hash alone ${fmt(hashAlone, 2)} ms, ours with every process ${fmt(ours, 2)} ms; realm same)`,
    '',
    setUp,
  );
  for (const realm of realms) lines.push(`${realm.name}: Keycloak credentialData ${realm.keycloakCredential}; ours ${realm.ourCredential}`);
  return { table: lines.join('\n'), targets };
}

async function main(): Promise<void> {
  const started = Date.now();
  process.env.JAVA_OPTS_APPEND = FULL_JIT;
  const machine = { cores: CORES, cpu: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
  log(`machine: ${JSON.stringify(machine)}`);
  const generator = await loadGenerator();
  const keycloak = await startKeycloak(log);
  const database = await startMongoServer({ env: { ...process.env, MONGODB_URI: process.env.BENCH_MONGODB_URI ?? '' }, log });
  const scratch = mkdtempSync(join(tmpdir(), 'bench-keycloak-'));
  let service: { port: number; pid: number; stop: () => Promise<void> } | undefined;
  try {
    const admin = new KeycloakAdmin(keycloak.url);
    const kcPort = Number(new URL(keycloak.url).port);
    const realms = await keycloakRealms(admin);
    service = await startService(await ourRealms(realms, database.uri, keycloak.url, scratch));
    const sides = {
      load: generator.load,
      ourPort: service.port,
      kcPort,
      sampleOurs: cpuSampler({ ours: { pids: [service.pid], split: true }, database: { pids: pidsOf(`secantusd.*${new URL(database.uri).port}`) } }),
      sampleKeycloak: cpuSampler({ Keycloak: { pids: pidsOf(`http-port ${String(kcPort)}`) } }),
    };
    const results: Record<string, RealmResult> = {};
    for (const realm of realms) {
      realm.token = (await admin.login(realm.name, CLIENT, USER.username, USER.password)).access_token;
      log(`${realm.name}: Keycloak stores ${realm.keycloakCredential}; we store ${realm.ourCredential}`);
      results[realm.name] = await runRealm(realm, sides);
    }
    const setUp =
      `machine: ${String(machine.cores)} cores (${machine.cpu}), ${String(machine.memoryGb)} GB, node ${machine.node}; database ${database.kind}; ` +
      `Keycloak 26.7.3 start-dev, JAVA_OPTS_APPEND=${FULL_JIT}; ${generator.label}, ${String(CONNECTIONS)} connections, ${String(ROUNDS)} rounds of ${String(ROUND_SECONDS)} s per side, ` +
      `alternating, after ${String(WARMUP_SECONDS)} s warm-up; ours: ${describeHashScheme(SAME_SCHEME)} (both realms); whole run ${String(Math.round((Date.now() - started) / 1000))} s`;
    const { table, targets } = report(realms, results, setUp);
    process.stdout.write(`${table}\n`);
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const file = join(__dirname, 'results', `keycloak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ machine, results, targets, table }, null, 2)}\n`);
    log(`written ${file}`);
  } finally {
    await service?.stop();
    await keycloak.stop();
    await database.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:keycloak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
