/**
 * A real Keycloak for the tests, from its server distribution on Maven Central.
 *
 * `npm run keycloak:install` fetches the pinned distribution with Maven
 * (`dependency:copy`, so the mirrors and proxies of `~/.m2/settings.xml`
 * apply; checksums strict, and the archive's SHA-1 checked against the one
 * pinned here), unpacks it, and starts it once in dev mode: that builds the
 * dev server image (Quarkus augmentation, ~30-60 s on two cores) and leaves an
 * initialised H2 database (master realm and a bootstrap admin) as a template.
 * All of it happens in a temporary folder of the user cache, which becomes
 * `keycloak-<version>` with one rename once the template has been checked.
 * Each test run then copies the template and starts in ~15-20 s instead of
 * ~60 s (a fresh database spends 20-30 s creating its schema).
 *
 * Runs on JDK 17 (Keycloak 26 supports 17, 21 and 25); needs Maven 3.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { cacheDir, installInCache } from '../src/cache/install';
import { freePort } from '../src/db/mongo-server';
// It logs in with KEYCLOAK_ADMIN, below: read when it is called, after this module has loaded.
import { DEMO, ensureDemoRealm } from '../examples/keycloak-demo';

export const KEYCLOAK_VERSION = '26.7.3';
/** The server distribution on Maven Central, and its SHA-1 there (`.tar.gz.sha1`), pinned so a mirror cannot swap it. */
const DIST = { artifact: `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:tar.gz`, sha1: '4ff244668809213a1c91ad2505390287203029d0' } as const;
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
/** A template smaller than this is an H2 file that never got its schema (a broken install once left 16 KB). */
const TEMPLATE_MIN_BYTES = 256 * 1024;

/** The bootstrap admin of the master realm (loopback only, test data). */
export const KEYCLOAK_ADMIN = { username: 'admin', password: 'admin-password-for-tests' } as const;

const run = promisify(execFile);

/**
 * The JVM's quick compiler only: Keycloak starts in about half the time on
 * two cores (measured here: 15 s instead of 27-33 s), and the tests' light
 * traffic never needs the optimising one. A JAVA_OPTS_APPEND of the caller's wins.
 */
function javaEnv(): NodeJS.ProcessEnv {
  return { ...process.env, JAVA_OPTS_APPEND: process.env.JAVA_OPTS_APPEND ?? '-XX:TieredStopAtLevel=1' };
}

export function keycloakHome(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `keycloak-${KEYCLOAK_VERSION}`);
}

const templateDir = (home: string): string => join(home, 'template-db');
const READY_MARK = '.password-resources-ready';

/** H2 in a file of our own; AUTO_SERVER lets `kc.sh export` read it while the server runs. */
export function h2Url(dir: string): string {
  return `jdbc:h2:file:${join(dir, 'keycloakdb')};NON_KEYWORDS=VALUE;AUTO_SERVER=TRUE`;
}

/**
 * The options of every `kc.sh` run. They must not vary between runs: a
 * build-time option that changes makes Keycloak rebuild its image (~45 s).
 */
function serverArgs(port: number, dbDir: string): string[] {
  return ['start-dev', '--http-host', '127.0.0.1', '--http-port', String(port), '--db', 'dev-file', '--db-url', h2Url(dbDir)];
}

export interface KeycloakServer {
  readonly url: string;
  readonly home: string;
  /** The H2 URL of this server's database, for `kc.sh export --db-url`. */
  readonly dbUrl: string;
  readonly startupMs: number;
  stop(): Promise<void>;
}

/** Whether `home` holds a finished install: the mark, and a template database with a schema in it. */
function isInstalled(home: string): boolean {
  const template = join(templateDir(home), 'keycloakdb.mv.db');
  return existsSync(join(home, READY_MARK)) && existsSync(template) && statSync(template).size >= TEMPLATE_MIN_BYTES;
}

/** Fetch, unpack, build and initialise, once; later calls return at once, and concurrent ones wait for the first. */
export async function installKeycloak(log: (line: string) => void = () => undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const home = keycloakHome(env);
  if (isInstalled(home)) return home;
  await checkJava();
  return installInCache(
    {
      name: `keycloak-${KEYCLOAK_VERSION}`,
      isFinished: isInstalled,
      build: async (dir) => {
        const archive = await fetchDistribution(dir, log);
        await run('tar', ['-xzf', archive, '-C', dir, '--strip-components=1', '--no-same-owner']);
        await rm(archive);
        log('building the dev image and a template database (once)');
        const server = await launch(dir, templateDir(dir), log, 300_000);
        try {
          // The template's master realm and its bootstrap admin work: a token for the admin.
          await adminToken(server.url);
        } finally {
          await server.stop();
        }
        log(`first start took ${Math.round(server.startupMs / 1000)} s`);
        await writeFile(join(dir, READY_MARK), `${new Date().toISOString()}\n`);
      },
      check: (dir) => {
        if (!isInstalled(dir)) throw new Error(`the template database in ${templateDir(dir)} is missing or has no schema`);
        return Promise.resolve();
      },
    },
    { env, log },
  );
}

/**
 * The distribution's archive, through Maven (so `~/.m2/settings.xml` mirrors
 * apply), copied into `dir`, its SHA-1 checked against the pinned one.
 */
async function fetchDistribution(dir: string, log: (line: string) => void): Promise<string> {
  log(`fetching ${DIST.artifact} with Maven (mirrors of ~/.m2/settings.xml apply)`);
  try {
    await run('mvn', ['--batch-mode', '--quiet', '--strict-checksums', `${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=${DIST.artifact}`, `-DoutputDirectory=${dir}`, '-Dmdep.overWriteReleases=true'], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const failed = error as { code?: string; stdout?: string };
    if (failed.code === 'ENOENT') throw new Error('Keycloak is fetched with Maven: mvn was not found (apt-get install maven)');
    throw new Error(`mvn could not fetch ${DIST.artifact}: ${failed.stdout?.trim().split('\n').slice(-10).join('\n') ?? String(error)}`);
  }
  const archive = join(dir, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.tar.gz`);
  const hash = createHash('sha1');
  await pipeline(createReadStream(archive), hash);
  const actual = hash.digest('hex');
  if (actual !== DIST.sha1) throw new Error(`${DIST.artifact}: SHA-1 ${actual} is not the pinned ${DIST.sha1}`);
  return archive;
}

/** A token of the master realm's bootstrap admin, or an error saying why not. */
async function adminToken(url: string): Promise<string> {
  const res = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: KEYCLOAK_ADMIN.username, password: KEYCLOAK_ADMIN.password }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || body.access_token === undefined) throw new Error(`the bootstrap admin cannot log in to ${url}: ${res.status}`);
  return body.access_token;
}

/** What a started Keycloak loads besides its own distribution. */
export interface KeycloakStartOptions {
  /**
   * Provider jars for its `providers/` folder. They go into a copy of the
   * installed distribution (`keycloak-<version>-providers`), never into the
   * installed one that other runs share; dev mode re-builds its image when
   * they change (~45 s), and reuses it while they do not.
   */
  readonly providers?: readonly string[];
}

/** Start a Keycloak on a free loopback port with a fresh copy of the template database. */
export async function startKeycloak(log: (line: string) => void = () => undefined, env: NodeJS.ProcessEnv = process.env, options: KeycloakStartOptions = {}): Promise<KeycloakServer> {
  const installed = await installKeycloak(log, env);
  const home = options.providers === undefined ? installed : await withProviders(installed, options.providers, log, env);
  const dbDir = await mkdtemp(join(tmpdir(), 'password-resources-keycloak-'));
  await copyFile(join(templateDir(home), 'keycloakdb.mv.db'), join(dbDir, 'keycloakdb.mv.db'));
  const server = await launch(home, dbDir, log, 240_000);
  return {
    ...server,
    async stop() {
      await server.stop();
      await rm(dbDir, { recursive: true, force: true });
    },
  };
}

/** The installed distribution copied once, with exactly these provider jars in its `providers/`. */
async function withProviders(installed: string, jars: readonly string[], log: (line: string) => void, env: NodeJS.ProcessEnv): Promise<string> {
  const home = await installInCache(
    {
      name: `${basename(installed)}-providers`,
      isFinished: isInstalled,
      build: async (dir) => {
        log(`copying ${installed} for the providers`);
        await run('cp', ['-a', `${installed}/.`, dir]);
      },
      check: (dir) => {
        if (!isInstalled(dir)) throw new Error(`the copy of ${installed} in ${dir} is incomplete`);
        return Promise.resolve();
      },
    },
    { env, log },
  );
  const folder = join(home, 'providers');
  const wanted = new Set(jars.map((jar) => basename(jar)));
  for (const name of await readdir(folder)) {
    if (name.endsWith('.jar') && !wanted.has(name)) await rm(join(folder, name));
  }
  for (const jar of jars) {
    const target = join(folder, basename(jar));
    const same = existsSync(target) && (await readFile(target)).equals(await readFile(jar));
    if (!same) await copyFile(jar, target);
  }
  return home;
}

async function launch(home: string, dbDir: string, log: (line: string) => void, timeoutMs: number): Promise<KeycloakServer> {
  await mkdir(dbDir, { recursive: true });
  const port = await freePort();
  const started = Date.now();
  const logFile = join(dbDir, 'keycloak.log');
  const out = createWriteStream(logFile);
  // Its own process group, so stop() reaches kc.sh and the JVM it starts.
  const child = spawn(join(home, 'bin', 'kc.sh'), serverArgs(port, dbDir), {
    cwd: home,
    detached: true,
    env: {
      ...javaEnv(),
      KC_BOOTSTRAP_ADMIN_USERNAME: KEYCLOAK_ADMIN.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: KEYCLOAK_ADMIN.password,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await terminate(child);
    out.end();
  };
  try {
    await waitForKeycloak(url, child, timeoutMs);
  } catch (error) {
    await stop();
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');
    throw new Error(`Keycloak ${KEYCLOAK_VERSION} did not start: ${error instanceof Error ? error.message : String(error)}\n${tail}`);
  }
  const startupMs = Date.now() - started;
  log(`Keycloak ${KEYCLOAK_VERSION} at ${url} ready in ${Math.round(startupMs / 1000)} s (log: ${logFile})`);
  return { url, home, dbUrl: h2Url(dbDir), startupMs, stop };
}

async function waitForKeycloak(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kc.sh exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/realms/master/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs / 1000} s`);
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const pid = child.pid;
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => {
    signal('SIGKILL');
  }, 20_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Run `kc.sh export` against a running server's database (reusing the dev
 * image: `--optimized`): one file (`--users same_file`), or, with `usersPerFile`,
 * the directory `path` of `<realm>-realm.json` and `<realm>-users-N.json`
 * (`--dir`, `--users different_files`).
 */
export async function exportRealm(server: Pick<KeycloakServer, 'home' | 'dbUrl'>, realm: string, path: string, options: { readonly usersPerFile?: number } = {}): Promise<void> {
  const layout = options.usersPerFile === undefined ? ['--users', 'same_file', '--file', path] : ['--users', 'different_files', '--users-per-file', String(options.usersPerFile), '--dir', path];
  await run(join(server.home, 'bin', 'kc.sh'), ['export', '--optimized', '--realm', realm, ...layout, '--db', 'dev-file', '--db-url', server.dbUrl], {
    cwd: server.home,
    env: javaEnv(),
    maxBuffer: 16 * 1024 * 1024,
    timeout: 180_000,
  });
}

async function checkJava(): Promise<void> {
  let version: string;
  try {
    version = (await run('java', ['-version'])).stderr;
  } catch {
    throw new Error('Keycloak needs a Java runtime (17 or newer) on PATH: java was not found');
  }
  const major = /version "(\d+)/.exec(version)?.[1];
  if (major === undefined || Number(major) < 17) throw new Error(`Keycloak ${KEYCLOAK_VERSION} needs Java 17 or newer, found: ${version.split('\n')[0] ?? version}`);
}

if (require.main === module) {
  const command = process.argv[2];
  const log = (line: string): void => {
    process.stdout.write(`[keycloak] ${line}\n`);
  };
  const main = async (): Promise<void> => {
    if (command === 'install') {
      const started = Date.now();
      const home = await installKeycloak(log);
      log(`Keycloak ${KEYCLOAK_VERSION} ready in ${home} (${Math.round((Date.now() - started) / 1000)} s)`);
      return;
    }
    if (command === 'start') {
      const server = await startKeycloak(log);
      // The examples' realm, with the admin console's client for `npm start` (README, "Console").
      await ensureDemoRealm(server.url, { log }).catch(async (error: unknown) => {
        await server.stop();
        throw error;
      });
      log(`admin: ${KEYCLOAK_ADMIN.username} / ${KEYCLOAK_ADMIN.password}; Ctrl-C stops it. The console of realm ${DEMO.realm}, as ${DEMO.admin.username} / ${DEMO.admin.password}:`);
      log(`REALMS=${DEMO.realm} OIDC_ISSUER_BASE_URL='${server.url}' OIDC_AUDIENCE=${DEMO.audience} CONSOLE_CLIENT_ID=${DEMO.consoleClient} npm start   # then ${DEMO.consoleUrl}`);
      log('To run the tests against it:');
      log(`export KEYCLOAK_URL='${server.url}' KEYCLOAK_HOME='${server.home}' KEYCLOAK_DB_URL='${server.dbUrl}'`);
      const stop = (): void => {
        void server.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    throw new Error('usage: keycloak.ts install | start');
  };
  main().catch((error: unknown) => {
    process.stderr.write(`keycloak: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
