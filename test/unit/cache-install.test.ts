import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, installInCache } from '../../src/cache/install';
import type { CacheArtifact } from '../../src/cache/install';

const DIST_INSTALL = join(__dirname, '..', '..', 'dist', 'cache', 'install.js');

let home: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cache-install-'));
  env = { XDG_CACHE_HOME: home };
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

/** An artifact whose build writes `done` after `ms`, counting its builds. */
function slowArtifact(ms: number, builds: { count: number }): CacheArtifact {
  return {
    name: 'thing-1.0',
    isFinished: (dir) => existsSync(join(dir, 'done')),
    build: async (dir) => {
      builds.count += 1;
      await new Promise((resolve) => setTimeout(resolve, ms));
      await writeFile(join(dir, 'done'), 'yes');
    },
    check: (dir) => (existsSync(join(dir, 'done')) ? Promise.resolve() : Promise.reject(new Error('not done'))),
  };
}

/** What is in the cache folder, the lock file aside. */
function listing(): string[] {
  return readdirSync(cacheDir(env)).filter((entry) => !entry.endsWith('.lock')).sort();
}

describe('the user cache folder', () => {
  it.each([
    [{ XDG_CACHE_HOME: '/var/cache/me', HOME: '/home/me' }, '/var/cache/me/password-resources'],
    [{ HOME: '/home/me' }, '/home/me/.cache/password-resources'],
    [{ XDG_CACHE_HOME: '', HOME: '/home/me' }, '/home/me/.cache/password-resources'],
    [{ XDG_CACHE_HOME: 'relative/cache', HOME: '/home/me' }, '/home/me/.cache/password-resources'],
  ])('is the XDG cache home when it is absolute, else ~/.cache (%j)', (given, expected) => {
    expect(cacheDir(given)).toBe(expected);
  });
});

describe('installing into the cache', () => {
  it('builds once when two installs run at once; the second waits and gets the first one’s folder', async () => {
    const builds = { count: 0 };
    const [first, second] = await Promise.all([installInCache(slowArtifact(300, builds), { env }), installInCache(slowArtifact(300, builds), { env })]);
    expect(first).toBe(join(cacheDir(env), 'thing-1.0'));
    expect(second).toBe(first);
    expect(builds.count).toBe(1);
    expect(listing()).toEqual(['thing-1.0']);
  });

  it('leaves nothing in place when the build fails, and the next install builds it', async () => {
    const failing: CacheArtifact = { ...slowArtifact(0, { count: 0 }), build: () => Promise.reject(new Error('network down')) };
    await expect(installInCache(failing, { env })).rejects.toThrow('network down');
    expect(listing()).toEqual([]);
    await installInCache(slowArtifact(0, { count: 0 }), { env });
    expect(listing()).toEqual(['thing-1.0']);
  });

  it('moves nothing into place when the check refuses the build', async () => {
    const refused: CacheArtifact = { ...slowArtifact(0, { count: 0 }), check: () => Promise.reject(new Error('template database has no schema')) };
    await expect(installInCache(refused, { env })).rejects.toThrow('template database has no schema');
    expect(listing()).toEqual([]);
  });

  it('replaces an unfinished folder that an earlier layout built in place', async () => {
    mkdirSync(join(cacheDir(env), 'thing-1.0'), { recursive: true });
    writeFileSync(join(cacheDir(env), 'thing-1.0', 'half'), '');
    const dir = await installInCache(slowArtifact(0, { count: 0 }), { env });
    expect(readdirSync(dir)).toEqual(['done']);
    expect(listing()).toEqual(['thing-1.0']);
  });

  it('is not fooled by a process killed mid-build: the lock goes with it, nothing looks finished, the next install builds', async () => {
    // Another process (the built module, as npm start runs it) starts a long build and is killed with SIGKILL.
    const script = `require(${JSON.stringify(DIST_INSTALL)}).installInCache({ name: 'thing-1.0', isFinished: () => false,
      build: async (dir) => { require('fs').writeFileSync(dir + '/partial', ''); process.stdout.write('building\\n'); await new Promise((r) => setTimeout(r, 60000)); },
      check: async () => undefined }, { env: { XDG_CACHE_HOME: ${JSON.stringify(home)} } });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => {
      child.stdout.once('data', () => {
        resolve();
      });
    });
    const builds = { count: 0 };
    // While it holds the lock, an install here waits.
    const waiting = installInCache(slowArtifact(0, builds), { env });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(builds.count).toBe(0);
    expect(existsSync(join(cacheDir(env), 'thing-1.0'))).toBe(false);
    const killed = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await killed;
    const dir = await waiting;
    expect(builds.count).toBe(1);
    expect(readFileSync(join(dir, 'done'), 'utf8')).toBe('yes');
    // The killed build's folder was removed by the install that followed.
    expect(listing()).toEqual(['thing-1.0']);
  });
});
