/**
 * Schemathesis (PyPI), the property-based API tester the contract test runs
 * over `openapi.yaml`, pinned and installed into a virtualenv in the user
 * cache (`~/.cache/password-resources/schemathesis-<version>`), as the Python
 * SecantusDB is. It goes in through `installInCache`: built in a temporary
 * folder under a lock, checked, then renamed into place, so a run that stops
 * half-way leaves nothing a later run would take for a finished install.
 *
 * `npm run schemathesis:install` installs it; the test installs it on first use too.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, installInCache } from '../src/cache/install';

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

/** Install schemathesis unless it is there; resolves to its Python. Concurrent installs wait for the first. */
export async function installSchemathesis(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const isFinished = (dir: string): boolean => existsSync(join(dir, 'bin', 'python'));
  await installInCache(
    {
      name: `schemathesis-${SCHEMATHESIS_VERSION}`,
      isFinished,
      build: async (dir) => {
        await run('python3', ['-m', 'venv', dir], { env });
        await run(join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`], { env, maxBuffer: 16 * 1024 * 1024 });
      },
      check: async (dir) => {
        if (!isFinished(dir)) throw new Error(`the virtualenv in ${dir} has no Python`);
        await run(join(dir, 'bin', 'python'), ['-m', 'schemathesis.cli', '--version'], { env });
      },
    },
    { env },
  );
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
