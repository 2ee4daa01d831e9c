import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Every file and npm script the project names to a user (README, package.json,
 * log lines and errors in the code, CI) exists, so nobody is sent to run
 * something that is not there. CHANGELOG.md is history and may name what went.
 */
const ROOT = join(__dirname, '..', '..');
const SCANNED = ['README.md', 'package.json', 'openapi.yaml', '.ci', 'src', 'scripts', 'bench', 'examples', 'test', 'jest.config.ts', 'jest.browser.config.ts', 'jest.keycloak.config.ts'];
/** Folders the project makes when it writes into them. */
const MADE_AT_RUN_TIME = ['bench/results/', 'examples/spa-account/dist/'];
const TEXT = /\.(ts|cjs|mjs|js|sh|md|json|ya?ml|hbs)$|^run$/;

function textFiles(path: string): string[] {
  const full = join(ROOT, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return TEXT.test(path.split('/').pop() ?? '') ? [path] : [];
  // Fixtures are data (a realm export), not names we print; an example's build output is Vite's.
  if (path === join('test', 'fixtures') || MADE_AT_RUN_TIME.includes(`${path}/`)) return [];
  return readdirSync(full).flatMap((entry) => textFiles(join(path, entry)));
}

const texts = SCANNED.flatMap(textFiles).map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

/** `scripts/keycloak.ts`, `src/db/mongo-server` (an import), `test/browser/`: repository paths, wherever they are written. */
const PATH = /(?<![\w./-])((?:\.ci|scripts|src|test|examples|bench|templates)\/[\w./-]*[\w/])/g;

function exists(path: string): boolean {
  if (MADE_AT_RUN_TIME.includes(path) || MADE_AT_RUN_TIME.includes(`${path}/`)) return true;
  return ['', '.ts', '.js', '.cjs'].some((extension) => existsSync(join(ROOT, path + extension)));
}

describe('names the project prints', () => {
  it('names only files and folders that exist', () => {
    const missing = texts.flatMap(({ file, text }) =>
      [...text.matchAll(PATH)].map((match) => match[1] ?? '').filter((path) => !exists(path)).map((path) => `${file}: ${path}`),
    );
    expect(missing).toEqual([]);
  });

  it('names only npm scripts that package.json defines', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const missing = texts.flatMap(({ file, text }) =>
      [...text.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((match) => match[1] ?? '').filter((name) => !scripts.includes(name)).map((name) => `${relative(ROOT, join(ROOT, file))}: npm run ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it("lists in package.json's files only what exists, and everything the package reads at run time", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    // dist is made by the build (`pretest`), so it exists here too.
    expect(pkg.files.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
    // The mailer and the hosted pages read their templates from the package.
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'openapi.yaml', 'templates']));
  });
});
