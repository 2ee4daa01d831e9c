/**
 * The one module that decides which MongoDB server the service and the tests
 * talk to, in this order:
 *
 * 1. `MONGODB_URI`, when set: always wins.
 * 2. A real mongod through mongodb-memory-server, where a mongod binary is
 *    already here (`MONGOMS_SYSTEM_BINARY`, or `mongod` on PATH).
 * 3. SecantusDB, a MongoDB-compatible server on WiredTiger: its Rust server
 *    (built once with cargo into the user cache), else its Python wheel
 *    (installed into a virtualenv in the user cache on first use).
 *
 * FerretDB v1 is deliberately absent: its updates are not atomic across
 * connections, which our compare-and-set relies on.
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, installInCache } from '../cache/install';
import type { InstallOptions } from '../cache/install';

export { cacheDir } from '../cache/install';

const run = promisify(execFile);

/** Pinned so every machine tests against the same server. */
export const SECANTUS_RUST = { crate: 'secantus-mdb', version: '0.5.3-beta.196', binary: 'secantusd-rs' } as const;
export const SECANTUS_PYTHON = { package: 'SecantusDB', version: '0.7.0b3', binary: 'secantusd-py' } as const;

export type MongoServerKind = 'MONGODB_URI' | 'mongodb-memory-server' | 'secantusd-rs' | 'secantusd-py';

/** A server to talk to, and how to let it go. */
export interface MongoServer {
  readonly uri: string;
  readonly kind: MongoServerKind;
  /** Stop the server if this module started it, and remove its data. */
  stop(): Promise<void>;
}

/**
 * A SecantusDB build in the cache, and how to run it. The Python server is
 * run through its virtualenv's interpreter: the venv was built in a temporary
 * folder and moved, so its scripts' `#!` lines point where it was built.
 */
export interface SecantusBuild {
  readonly kind: 'secantusd-rs' | 'secantusd-py';
  readonly command: string;
  readonly args: readonly string[];
}

const RUST_DIR = `secantus-${SECANTUS_RUST.version}`;
const PYTHON_DIR = `secantus-py-${SECANTUS_PYTHON.version}`;

export function rustServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), RUST_DIR, 'bin', SECANTUS_RUST.binary);
}

export function pythonServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), PYTHON_DIR, 'bin', SECANTUS_PYTHON.binary);
}

function rustBuild(dir: string): SecantusBuild {
  return { kind: 'secantusd-rs', command: join(dir, 'bin', SECANTUS_RUST.binary), args: [] };
}

function pythonBuild(dir: string): SecantusBuild {
  return { kind: 'secantusd-py', command: join(dir, 'bin', 'python3'), args: [join(dir, 'bin', SECANTUS_PYTHON.binary)] };
}

async function runsHelp(build: SecantusBuild): Promise<void> {
  await run(build.command, [...build.args, '--help'], { timeout: 60_000 });
}

/** The Rust server, when it has been built (`npm run db:install` with cargo here). */
export function builtRustServer(env: NodeJS.ProcessEnv = process.env): SecantusBuild | undefined {
  return existsSync(rustServerPath(env)) ? rustBuild(join(cacheDir(env), RUST_DIR)) : undefined;
}

/** The best SecantusDB build already in the cache, if any: the Rust server first. */
export function builtSecantus(env: NodeJS.ProcessEnv = process.env): SecantusBuild | undefined {
  return builtRustServer(env) ?? (existsSync(pythonServerPath(env)) ? pythonBuild(join(cacheDir(env), PYTHON_DIR)) : undefined);
}

/** Build the Rust server into the cache (about 8 minutes cold). */
export async function installRustServer(options: InstallOptions = {}): Promise<SecantusBuild> {
  const env = options.env ?? process.env;
  const dir = await installInCache(
    {
      name: RUST_DIR,
      isFinished: (candidate) => existsSync(join(candidate, 'bin', SECANTUS_RUST.binary)),
      build: async (into) => {
        options.log?.(`building ${SECANTUS_RUST.crate} ${SECANTUS_RUST.version} with cargo (about 8 minutes, once)`);
        await run('cargo', ['install', SECANTUS_RUST.crate, '--version', SECANTUS_RUST.version, '--locked', '--ignore-rust-version', '--root', into], {
          env,
          maxBuffer: 64 * 1024 * 1024,
        });
      },
      check: (into) => runsHelp(rustBuild(into)),
    },
    options,
  );
  return rustBuild(dir);
}

/** Install the Python server into a virtualenv in the cache (seconds to a minute or two, once). */
export async function installPythonServer(options: InstallOptions = {}): Promise<SecantusBuild> {
  const env = options.env ?? process.env;
  const dir = await installInCache(
    {
      name: PYTHON_DIR,
      isFinished: (candidate) => existsSync(join(candidate, 'bin', SECANTUS_PYTHON.binary)),
      build: async (into) => {
        options.log?.(
          `installing SecantusDB for the embedded database, first run only: ${SECANTUS_PYTHON.package}==${SECANTUS_PYTHON.version} from PyPI into ${join(cacheDir(env), PYTHON_DIR)}`,
        );
        await run('python3', ['-m', 'venv', into], { env });
        await run(join(into, 'bin', 'python3'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `${SECANTUS_PYTHON.package}==${SECANTUS_PYTHON.version}`], {
          env,
          maxBuffer: 16 * 1024 * 1024,
        });
      },
      check: (into) => runsHelp(pythonBuild(into)),
    },
    options,
  );
  return pythonBuild(dir);
}

/** A port nobody listens on at the moment, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`database server exited with ${child.exitCode}: ${output()}`);
    if (await accepts(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`database server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${output()}`);
}

/**
 * A shell between us and the server, holding a pipe from us on its stdin:
 * when the pipe closes (we stop the server, or our process ends in any way,
 * SIGKILL included) it sends the server SIGTERM, so a server never outlives
 * the process that started it. Its data goes with it: the shell removes the
 * folder it runs in. The server's exit status is the shell's.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'server=$!',
  '{ cat <&3 >/dev/null; kill -TERM "$server" 2>/dev/null; } &',
  'wait "$server"',
  'status=$?',
  'rm -rf "$PWD"',
  'exit "$status"',
].join('\n');

/** Signal the watchdog, the server and the watchdog's reader: they share a process group. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function startSecantus(build: SecantusBuild): Promise<MongoServer> {
  const { kind } = build;
  const dir = await mkdtemp(join(tmpdir(), 'password-resources-db-'));
  const port = await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--storage-path', join(dir, 'data'), '--log-level', 'WARNING'];
  // A WiredTiger log file is allocated in full; 1 MB keeps an empty store small.
  if (kind === 'secantusd-rs') args.push('--log-file-max', '1MB');
  // cwd is the temp folder so no ./secantusd.toml of the caller's is picked up.
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', build.command, ...build.args, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  // The watchdog's pipe may be gone first (a server that died on its own): nothing to report.
  child.stdin.on('error', () => undefined);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-2_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  try {
    await waitForPort(port, child, () => output, 30_000);
  } catch (error) {
    signalGroup(child, 'SIGKILL');
    throw error;
  }
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  return {
    // The server advertises a one-member replica set; talk to it directly.
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    kind,
    async stop() {
      if (child.exitCode === null) {
        // Closing the pipe is the watchdog's cue to stop the server.
        child.stdin.end();
        const timer = setTimeout(() => {
          signalGroup(child, 'SIGKILL');
        }, 5_000);
        await exited;
        clearTimeout(timer);
      }
      child.stdin.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A mongod binary already on this machine: mongodb-memory-server's own setting, or one on PATH. */
function localMongod(env: NodeJS.ProcessEnv): string | undefined {
  if (env.MONGOMS_SYSTEM_BINARY) return env.MONGOMS_SYSTEM_BINARY;
  return (env.PATH ?? '').split(':').map((dir) => join(dir, 'mongod')).find((candidate) => existsSync(candidate));
}

/**
 * A real mongod through mongodb-memory-server, only where a binary is already
 * here: its download cannot work on machines without internet access and
 * would cost every start a failed attempt.
 */
async function startMemoryServer(binary: string): Promise<MongoServer> {
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create({ instance: { ip: '127.0.0.1' }, binary: { systemBinary: binary } });
  return { uri: server.getUri(), kind: 'mongodb-memory-server', stop: async () => {
    await server.stop();
  } };
}

/**
 * Find or start a database server, as described at the top of this module.
 * `log` is told which one and why.
 *
 * @example
 * const db = await startMongoServer({ log: (line) => logger.info(line) });
 * // ... mongoose.createConnection(db.uri) ...
 * await db.stop();
 */
export async function startMongoServer(options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Promise<MongoServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const given = env.MONGODB_URI;
  if (given !== undefined && given !== '') {
    return { uri: given, kind: 'MONGODB_URI', stop: () => Promise.resolve() };
  }
  const mongod = localMongod(env);
  if (mongod) {
    log(`MONGODB_URI is unset: starting an ephemeral mongod (${mongod}) through mongodb-memory-server`);
    return startMemoryServer(mongod);
  }
  const rust = builtRustServer(env);
  if (rust) {
    const server = await startSecantus(rust);
    log(`MONGODB_URI is unset: started an ephemeral SecantusDB (${SECANTUS_RUST.binary} ${SECANTUS_RUST.version})`);
    return server;
  }
  log(`MONGODB_URI is unset and SecantusDB's Rust server is not built (npm run db:install builds it where cargo is): using its Python server`);
  const python = await installPythonServer({ env, log });
  const server = await startSecantus(python);
  log(`MONGODB_URI is unset: started an ephemeral SecantusDB (${SECANTUS_PYTHON.binary} ${SECANTUS_PYTHON.version}); its writes are slower than the Rust server's`);
  return server;
}
