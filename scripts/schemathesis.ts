/**
 * Schemathesis (PyPI), the property-based API tester the contract test runs
 * over `openapi.yaml`, pinned and installed into a virtualenv in the user
 * cache (`~/.cache/password-resources/schemathesis-<version>`), as the Python
 * SecantusDB is. The virtualenv is built in a temporary folder beside it and
 * renamed into place, so a run that stops half-way leaves nothing a later run
 * would take for a finished install.
 *
 * `npm run schemathesis:install` installs it; the test installs it on first use too.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../src/db/mongo-server';

export const SCHEMATHESIS_VERSION = '4.32.5';

const run = promisify(execFile);

function venv(env: NodeJS.ProcessEnv): string {
  return join(cacheDir(env), `schemathesis-${SCHEMATHESIS_VERSION}`);
}

/**
 * The virtualenv's Python; run schemathesis as `<python> -m schemathesis.cli`.
 * Its console script would name the temporary folder it was built in.
 */
export function schemathesisPython(env: NodeJS.ProcessEnv = process.env): string {
  return join(venv(env), 'bin', 'python');
}

/** Install schemathesis unless it is there; resolves to its Python. */
export async function installSchemathesis(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const target = venv(env);
  if (existsSync(join(target, 'bin', 'python'))) return schemathesisPython(env);
  await mkdir(cacheDir(env), { recursive: true });
  const building = `${target}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  try {
    await run('python3', ['-m', 'venv', building], { env });
    await run(join(building, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`], { env, maxBuffer: 16 * 1024 * 1024 });
    // Another run may have finished first: theirs stays, ours goes.
    if (existsSync(target)) await rm(building, { recursive: true, force: true });
    else await rename(building, target);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
  return schemathesisPython(env);
}

if (require.main === module) {
  installSchemathesis().then(
    (python) => {
      console.log(`schemathesis ${SCHEMATHESIS_VERSION} at ${python}`);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
