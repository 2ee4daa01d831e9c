// @ts-check
import eslint from '@eslint/js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, lowest first; the request flow of shared/design.md. A
 * module imports only from its own layer or the ones below it:
 *
 * - domain: the use cases, policy, hashing, lockout, the store interfaces they
 *   own, and the error classes. Knows neither Express, mongoose, nor options.
 * - config: option and environment types, defaults and their resolution. May
 *   use domain parsers (the policy string) and types (brute force settings).
 * - adapters: what the domain's interfaces are implemented with: the mongoose
 *   and Keycloak stores, the database server and the user cache it is
 *   installed into, token verification (jose), mail
 *   (nodemailer), metrics (prom-client), what log lines may hold (pino).
 * - http: routes, middleware, the error mapper. Never the database (the
 *   `http-knows-no-database` zone below).
 * - composition: the options, the assemblers wiring one router, and the
 *   library's entry point.
 * - entry points: the standalone app, the server and the CLI.
 */
const LAYERS = [
  { name: 'domain', paths: ['src/domain', 'src/errors.ts'] },
  { name: 'config', paths: ['src/config'] },
  { name: 'adapters', paths: ['src/store', 'src/db', 'src/cache', 'src/auth', 'src/mail', 'src/metrics.ts', 'src/logging.ts'] },
  { name: 'http', paths: ['src/http'] },
  { name: 'composition', paths: ['src/assembly', 'src/options.ts', 'src/index.ts'] },
  { name: 'entry points', paths: ['src/app.ts', 'src/server.ts', 'src/cli'] },
];
// A module outside every layer would escape the rule: name it in LAYERS first.
const unplaced = readdirSync(join(import.meta.dirname, 'src'))
  .map((entry) => `src/${entry}`)
  .filter((path) => !LAYERS.some((layer) => layer.paths.includes(path)));
if (unplaced.length > 0) throw new Error(`eslint.config.mjs: put ${unplaced.join(', ')} in one of LAYERS`);
const layerZones = LAYERS.slice(0, -1).map((layer, index) => ({
  target: layer.paths.map((path) => `./${path}`),
  from: LAYERS.slice(index + 1).flatMap((above) => above.paths.map((path) => `./${path}`)),
  message: `the ${layer.name} layer imports nothing from a layer above it (see LAYERS in eslint.config.mjs)`,
}));
const httpKnowsNoDatabase = {
  target: './src/http',
  from: ['./src/store', './src/db'],
  message: 'HTTP code knows nothing about MongoDB: it reaches the store through the domain',
};

export default tseslint.config(
  // Auth0 custom database scripts run in Auth0's sandbox, with its globals (configuration, WrongUsernameOrPasswordError): not modules of this project.
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'bench/results/', 'examples/auth0-custom-database/', 'examples/spa-account/dist/'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.mjs', 'test/helpers/summary-reporter.cjs', 'examples/spa-account/vite.config.mjs', 'console/vite.config.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Flags every mongoose schema literal and Express request; the type checker already covers these.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // Express tells error handlers by their four parameters, used or not.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      'import/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: [...layerZones, httpKnowsNoDatabase] }],
    },
  },
  {
    // A function reads on one screen. Tables (route lists, defaults) sit at module level, outside any function.
    files: ['src/**/*.ts', 'bench/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
  { files: ['eslint.config.mjs', 'examples/spa-account/vite.config.mjs', 'console/vite.config.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', process: 'readonly', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
