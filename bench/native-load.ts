/**
 * The native load generator (bench/loadgen/main.go, Go's standard library
 * only): the same closed loop as `closedLoop` (autocannon), at a fraction of
 * the CPU per request, so that on cores shared with what it measures it
 * takes little from either side. Built once with `go build` into the user
 * cache (a new build when its source changes), as the database server is.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installInCache } from '../src/cache/install';
import type { BenchRequest, LoadResult } from './load';

const run = promisify(execFile);
const SOURCE = join(__dirname, 'loadgen', 'main.go');
const BINARY = 'loadgen';

/** What one closed loop of the native generator measured, with the CPU it took itself. */
export interface NativeLoadResult extends LoadResult {
  /** CPU time (user + system) of the load generator's process, ms. */
  readonly cpuMs: number;
}

/** The built load generator, from the cache; built with `go build` on first use (a few seconds to half a minute). */
export async function installLoadGenerator(log: (line: string) => void): Promise<string> {
  const source = readFileSync(SOURCE);
  const name = `bench-loadgen-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`;
  const dir = await installInCache(
    {
      name,
      isFinished: (at) => existsSync(join(at, BINARY)),
      build: async (into) => {
        log(`building the native load generator with go build (${SOURCE})`);
        try {
          await run('go', ['build', '-trimpath', '-o', join(into, BINARY), SOURCE], { env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '' } });
        } catch (error) {
          const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
          throw new Error(missing ? 'the bench builds its load generator with Go (go build, 1.21 or newer): install Go and put it on PATH' : `go build of the load generator failed: ${String((error as { stderr?: string }).stderr ?? error)}`);
        }
      },
      check: async (at) => {
        // Empty options: it must refuse them (exit 2), rather than crash or hang.
        const child = spawn(join(at, BINARY), [], { stdio: ['pipe', 'ignore', 'ignore'], timeout: 10_000 });
        child.stdin.end('{}');
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        if (code !== 2) throw new Error(`the built load generator does not run (exit ${String(code)})`);
      },
    },
    { log },
  );
  return join(dir, BINARY);
}

/**
 * `connections` keep-alive connections, each sending its next request as
 * soon as the previous one is answered, for `seconds`, cycling through
 * `requests`; the latencies of every response, by status.
 */
export async function nativeClosedLoop(binary: string, options: { port: number; connections: number; seconds: number; requests: readonly BenchRequest[]; timeoutMs?: number }): Promise<NativeLoadResult> {
  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end(JSON.stringify({ port: options.port, connections: options.connections, seconds: options.seconds, timeoutMs: options.timeoutMs ?? 10_000, requests: options.requests }));
  const code = await exited;
  if (code !== 0) throw new Error(`the load generator exited with ${String(code)}: ${err}`);
  return JSON.parse(out) as NativeLoadResult;
}
