import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { RUN_MARKER } from './processes';

/** The built bin, as `npm start` and users run it (`pretest` builds it). */
export const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI to completion with `env` (nothing inherited but PATH, HOME, the cache folder and the run's marker) and optional stdin. */
export async function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => {
    child.on('close', resolve);
  });
  return { code, stdout, stderr };
}

/** CLI processes of this test file that have not exited yet. */
const running = new Set<ChildProcessWithoutNullStreams>();

export function spawnCli(args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...inherited(), ...env } });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * Stop every CLI process this file started that is still running (SIGTERM,
 * then SIGKILL after `graceMs`): call it in `afterAll`, so that a test that
 * failed half-way leaves nothing behind. A killed `serve` takes its embedded
 * database with it (its watchdog sees the pipe close).
 */
export async function stopSpawned(graceMs = 5_000): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** What a child needs from our environment: where programs and the user's cache are, and the run it belongs to. */
function inherited(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  for (const name of ['XDG_CACHE_HOME', RUN_MARKER]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
