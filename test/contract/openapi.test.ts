import { LOGIN_CHECK_PATH, LOGIN_CHECK_SCHEMA } from '../../src/http/login-check-routes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createApp } from '../../src/app';
import { DEFAULTS } from '../../src/config/defaults';
import { ACCOUNT_BASE, ACCOUNT_ROUTES } from '../../src/http/routes';
import { ADMIN_BASE, ADMIN_ROUTES } from '../../src/http/admin-routes';
import { RECOVERY_JSON_ROUTES, RESET_PAGE_PATH } from '../../src/http/recovery-routes';
import { loadOpenApi, OPENAPI_PATH } from '../../src/http/schemas';
import { accountPathMethods } from '../../src/assembly/http';
import { CONSOLE_BASE, CONSOLE_PATHS } from '../../src/http/console-routes';
import type { PasswordResources } from '../../src/index';

const document = loadOpenApi();
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

/** `/realms/:realm/x` -> `/realms/{realm}/x` */
function toTemplate(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

describe('openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    // ESM-only package: loaded with import(), which jest allows under --experimental-vm-modules.
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(OPENAPI_PATH);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents exactly the routes the code serves, and the code serves exactly those', () => {
    const inCode = [
      ...ACCOUNT_ROUTES.map((route) => `${route.method.toUpperCase()} ${toTemplate(ACCOUNT_BASE + route.path)}`),
      ...ADMIN_ROUTES.map((route) => `${route.method.toUpperCase()} ${toTemplate(ADMIN_BASE + route.path)}`),
      ...RECOVERY_JSON_ROUTES.map((route) => `POST ${toTemplate(ACCOUNT_BASE + route.path)}`),
      ...['GET', 'POST'].map((method) => `${method} ${toTemplate(ACCOUNT_BASE + RESET_PAGE_PATH)}`),
      `POST ${toTemplate(ACCOUNT_BASE + LOGIN_CHECK_PATH)}`,
      ...[...accountPathMethods().keys()].map((path) => `OPTIONS ${toTemplate(ACCOUNT_BASE + path)}`),
      // `/admin/console/` is documented as `/admin/console`: a path matches its template with or without the slash.
      ...CONSOLE_PATHS.map((path) => `GET ${toTemplate(CONSOLE_BASE + path).replace(/\/$/, '')}`),
    ];
    // The standalone app's own routes, read from Express itself.
    const resources = { router: (_req: unknown, _res: unknown, next: () => void) => { next(); }, metrics: new Registry() } as unknown as PasswordResources;
    const app = createApp(resources, pino({ level: 'silent' }));
    const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
    for (const layer of stack) {
      if (!layer.route) continue;
      for (const method of Object.keys(layer.route.methods)) inCode.push(`${method.toUpperCase()} ${toTemplate(layer.route.path)}`);
    }
    const inSpec = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).filter((key) => METHODS.includes(key)).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(inCode.sort()).toEqual(inSpec.sort());
  });

  it('validates request bodies with the schemas the routes name', () => {
    const loginCheck = (document.paths[toTemplate(ACCOUNT_BASE + LOGIN_CHECK_PATH)] as Record<string, { requestBody: unknown }>).post;
    expect(JSON.stringify(loginCheck?.requestBody)).toContain(`#/components/schemas/${LOGIN_CHECK_SCHEMA}`);
    for (const route of ACCOUNT_ROUTES) {
      if (route.method === 'get') continue;
      const path = (document.paths[toTemplate(ACCOUNT_BASE + route.path)] as Record<string, { requestBody: unknown }>)[route.method];
      expect(JSON.stringify(path?.requestBody)).toContain(`#/components/schemas/${route.bodySchema}`);
    }
    for (const route of ADMIN_ROUTES) {
      const operation = (document.paths[toTemplate(ADMIN_BASE + route.path)] as Record<string, { requestBody?: unknown }>)[route.method];
      if (route.bodySchema === undefined) expect(operation?.requestBody).toBeUndefined();
      else expect(JSON.stringify(operation?.requestBody)).toContain(`#/components/schemas/${route.bodySchema}`);
    }
  });

  it('names on each admin route the role the code asks for', () => {
    const names = { view: 'view-users', manage: 'manage-users', viewEvents: 'view-events', manageRealm: 'manage-realm', viewRealm: 'view-realm' } as const;
    for (const route of ADMIN_ROUTES) {
      const operation = (document.paths[toTemplate(ADMIN_BASE + route.path)] as Record<string, { description?: string }>)[route.method];
      expect(operation?.description).toContain(`Needs the \`${names[route.role]}\` role.`);
    }
  });
});

describe('README', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const row = (variable: string): string => {
    const line = readme.split('\n').find((l) => l.startsWith(`| \`${variable}\` |`));
    if (!line) throw new Error(`README has no row for ${variable}`);
    return line.split('|').at(-2)?.trim() ?? '';
  };

  it.each([
    ['PORT', `\`${DEFAULTS.port}\``],
    ['BCRYPT_COST', `\`${DEFAULTS.bcryptCost}\``],
    ['HASH_ALGORITHM', `\`${DEFAULTS.hashAlgorithm}\``],
    ['ARGON2_MEMORY', `\`${DEFAULTS.argon2Memory}\``],
    ['ARGON2_PARALLELISM', `\`${DEFAULTS.argon2Parallelism}\``],
    ['PASSWORD_POLICY', `\`${DEFAULTS.passwordPolicy}\``],
    ['LOG_LEVEL', `\`${DEFAULTS.logLevel}\``],
    ['HASH_QUEUE_BUDGET_MS', `\`${DEFAULTS.hashQueueBudgetMs}\``],
    ['HASH_QUEUE_INTERVAL_MS', `\`${DEFAULTS.hashQueueIntervalMs}\``],
  ])('states the default of %s as the code has it', (variable, expected) => {
    expect(row(variable)).toBe(expected);
  });

  it('lists every variable the configuration reads', () => {
    const source = readFileSync(join(__dirname, '..', '..', 'src', 'config', 'env.ts'), 'utf8');
    const read = [...source.matchAll(/(?:optional|integerSetting)\(env, '([A-Z_]+)'/g)].map((m) => m[1]);
    expect(read.length).toBeGreaterThan(5);
    for (const variable of read) expect(() => row(variable ?? '')).not.toThrow();
  });
});
