/**
 * The user cache where the project keeps what it builds once per machine (the
 * database server, Keycloak), and the one way things get into it: built in a
 * temporary folder next to their place, checked, then moved into place with a
 * single rename, under a lock so that a second install waits for the first.
 * An install that is interrupted leaves only a `.<name>.build-*` folder, which
 * never looks finished and which the next install removes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * `$XDG_CACHE_HOME/password-resources`, else `~/.cache/password-resources`:
 * outside the clone, so a fresh clone on the same machine reuses the builds.
 * A relative or empty `XDG_CACHE_HOME` is ignored, as the XDG spec says.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'password-resources');
}

/** What to build into the cache, and how to tell a finished one. */
export interface CacheArtifact {
  /** The folder's name in the cache, e.g. `secantus-0.5.3-beta.196`. */
  readonly name: string;
  /** Whether the folder at `dir` is finished. Also true of a finished folder made by an earlier layout. */
  isFinished(dir: string): boolean;
  /** Build into `dir`, an empty temporary folder in the cache. */
  build(dir: string): Promise<void>;
  /** Throw unless what `build` left in `dir` works; it is moved into place only after this. */
  check(dir: string): Promise<void>;
}

export interface InstallOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (line: string) => void;
}

/**
 * The finished folder of `artifact` in the cache, building it first if it is
 * not there yet. Concurrent calls, from any process, build it once.
 */
export async function installInCache(artifact: CacheArtifact, options: InstallOptions = {}): Promise<string> {
  const root = cacheDir(options.env);
  const log = options.log ?? (() => undefined);
  const target = join(root, artifact.name);
  if (artifact.isFinished(target)) return target;
  await mkdir(root, { recursive: true });
  const release = await lock(join(root, `.${artifact.name}.lock`), log);
  try {
    // Another process may have finished it while we waited.
    if (artifact.isFinished(target)) return target;
    await removeLeftovers(root, artifact.name);
    const build = await mkdtemp(join(root, `.${artifact.name}.build-`));
    const started = Date.now();
    try {
      await artifact.build(build);
      await artifact.check(build);
      // An unfinished folder in its place (an earlier layout built in place): out of the way first.
      if (existsSync(target)) {
        const old = await mkdtemp(join(root, `.${artifact.name}.old-`));
        await rename(target, join(old, 'unfinished'));
        await rm(old, { recursive: true, force: true });
      }
      await rename(build, target);
      log(`${artifact.name} installed in ${target} (${Math.round((Date.now() - started) / 1000)} s)`);
    } catch (error) {
      await rm(build, { recursive: true, force: true });
      throw error;
    }
    return target;
  } finally {
    await release();
  }
}

/** Build folders of interrupted installs: only the lock holder calls this, so none of them is in use. */
async function removeLeftovers(root: string, name: string): Promise<void> {
  const prefixes = [`.${name}.build-`, `.${name}.old-`];
  for (const entry of await readdir(root)) {
    if (prefixes.some((prefix) => entry.startsWith(prefix))) await rm(join(root, entry), { recursive: true, force: true });
  }
}

/**
 * An exclusive lock on `file`, held by a `flock(1)` child whose stdin is our
 * pipe: the kernel drops it when that child ends, which it does when we
 * release it or when our process ends in any way, so a lock is never stale.
 * Where `flock` is missing (it is in util-linux, on every Debian) installs
 * run unlocked: two may then build at once, but the rename still lets only a
 * checked folder into place.
 */
async function lock(file: string, log: (line: string) => void): Promise<() => Promise<void>> {
  const child = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => {
      resolve();
    });
  });
  const waiting = setTimeout(() => {
    log(`waiting for another install to finish (lock: ${file})`);
  }, 1_000);
  // The child prints once it holds the lock; it ends at once when flock is missing or fails.
  const held = await new Promise<boolean>((resolve) => {
    child.once('error', () => {
      resolve(false);
    });
    child.once('exit', () => {
      resolve(false);
    });
    child.stdout.once('data', () => {
      resolve(true);
    });
  });
  clearTimeout(waiting);
  if (!held) {
    log(`no lock for ${file} (flock(1) is missing): installing without one`);
    return () => Promise.resolve();
  }
  return async () => {
    child.stdin.end();
    await exited;
  };
}
