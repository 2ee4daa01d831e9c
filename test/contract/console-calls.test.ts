import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadOpenApi } from '../../src/http/schemas';

/**
 * Every admin API call the console can make, read from its source
 * (`console/src/api.ts`, the one module that calls the API), is an operation
 * of `openapi.yaml`, with documented query parameters: the console does
 * nothing a client of the documented API cannot. The browser tests
 * (test/keycloak/console.test.ts) check the calls it really makes, too.
 */
const SOURCE = join(__dirname, '..', '..', 'console', 'src');
const API = join(SOURCE, 'api.ts');
const document = loadOpenApi();

interface Parameter {
  name: string;
  in: string;
  $ref?: string;
}
type Operation = { parameters?: Parameter[] };
type PathItem = Record<string, Operation> & { parameters?: Parameter[] };

function resolve(parameter: Parameter): Parameter {
  if (parameter.$ref === undefined) return parameter;
  const name = parameter.$ref.replace('#/components/parameters/', '');
  return (document as unknown as { components: { parameters: Record<string, Parameter> } }).components.parameters[name] ?? parameter;
}

/** A call as api.ts writes it: `this.#call('PUT', \`users/${encodeURIComponent(id)}/reset-password\`, 'set passwords', { query: { lifespan: ... }, ... })`. */
interface Call {
  readonly method: string;
  /** openapi.yaml's template: `/admin/realms/{realm}/users/{id}/reset-password`. */
  readonly template: string;
  readonly query: readonly string[];
  readonly line: number;
}

const CALL = /this\.#(?:call|json)(?:<[^>]*>)?\(\s*'([A-Z]+)',\s*(['`])([^'`]*)\2([^;]*)/g;

function callsIn(source: string): Call[] {
  return [...source.matchAll(CALL)].map((match) => {
    const [, method = '', , path = '', rest = ''] = match;
    const below = path.replace(/\$\{encodeURIComponent\((\w+)\)\}/g, '{$1}');
    const queryObject = /query: \{([^}]*)\}/.exec(rest)?.[1] ?? '';
    const query = queryObject
      .split(',')
      .map((entry) => entry.split(':')[0]?.trim() ?? '')
      .filter((name) => name !== '');
    return { method, template: `/admin/realms/{realm}${below === '' ? '' : `/${below}`}`, query, line: source.slice(0, match.index).split('\n').length };
  });
}

/** The documented operation whose template matches, parameter names aside (`{id}` or `{userId}`). */
function operationOf(call: Call): { operation: Operation; item: PathItem } | undefined {
  const shape = (template: string): string => template.replace(/\{[^}]+\}/g, '{}');
  const entry = Object.entries(document.paths).find(([template]) => shape(template) === shape(call.template));
  if (!entry) return undefined;
  const item = entry[1] as PathItem;
  const operation = item[call.method.toLowerCase()];
  return operation ? { operation, item } : undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : []));
}

describe("the console's admin API calls", () => {
  const source = readFileSync(API, 'utf8');
  const calls = callsIn(source);

  it('are all read from api.ts: every call there names its method and path, and no other module calls the admin API', () => {
    // The one call with neither is the helper that the others go through.
    const sites = source.match(/this\.#(?:call|json)(?:<[^>]*>)?\(/g) ?? [];
    expect(sites.length - calls.length).toBe(1);
    // Its code, comments aside, and the console's own config.json aside.
    const code = (file: string): string =>
      readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '')
        .replace(/fetch\(new URL\('config\.json'/g, '');
    const elsewhere = sourceFiles(SOURCE)
      .filter((file) => file !== API && /realms\/|fetch\(/.test(code(file)))
      .map((file) => relative(SOURCE, file));
    expect(elsewhere).toEqual([]);
    expect(calls.length).toBeGreaterThanOrEqual(15);
  });

  it('are each an operation of openapi.yaml, with documented query parameters', () => {
    const undocumented = calls.flatMap((call) => {
      const found = operationOf(call);
      const where = `api.ts:${call.line} ${call.method} ${call.template}`;
      if (!found) return [`${where}: not in openapi.yaml`];
      const parameters = [...(found.item.parameters ?? []), ...(found.operation.parameters ?? [])].map(resolve);
      const names = new Set(parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name));
      return call.query.filter((name) => !names.has(name)).map((name) => `${where}: query parameter ${name} is not documented`);
    });
    expect(undocumented).toEqual([]);
  });

  it("cover every action the console offers: users, credentials, brute force, events, the realm's email", () => {
    expect(calls.map((call) => `${call.method} ${call.template}`).sort()).toEqual(
      expect.arrayContaining([
        'GET /admin/realms/{realm}/users',
        'POST /admin/realms/{realm}/users',
        'PUT /admin/realms/{realm}/users/{id}',
        'PUT /admin/realms/{realm}/users/{id}/reset-password',
        'DELETE /admin/realms/{realm}/users/{id}/credentials/{credentialId}',
        'PUT /admin/realms/{realm}/users/{id}/execute-actions-email',
        'POST /admin/realms/{realm}/users/{id}/password-change-ticket',
        'DELETE /admin/realms/{realm}/attack-detection/brute-force/users/{id}',
        'GET /admin/realms/{realm}/events',
        'GET /admin/realms/{realm}/admin-events',
        'POST /admin/realms/{realm}/testSMTPConnection',
      ]),
    );
  });
});
