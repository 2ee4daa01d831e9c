/**
 * `npm run db:install`: build the database server the tests use into the user
 * cache, once: SecantusDB's Rust server when cargo is here (about 8 minutes
 * cold), else its Python wheel (a minute or two). Does nothing when
 * `MONGODB_URI` is set.
 */
import { execFileSync } from 'node:child_process';
import { installPythonServer, installRustServer } from './mongo-server';

function hasCargo(): boolean {
  try {
    execFileSync('cargo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  if (process.env.MONGODB_URI) {
    process.stdout.write('MONGODB_URI is set: no database server to install\n');
    return;
  }
  const started = Date.now();
  const log = (line: string): void => {
    process.stdout.write(`[db] ${line}\n`);
  };
  const build = hasCargo() ? await installRustServer({ log }) : await installPythonServer({ log });
  log(`database server ready: ${build.kind} in ${build.command} (${Math.round((Date.now() - started) / 1000)} s)`);
}

main().catch((error: unknown) => {
  process.stderr.write(`db:install failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
