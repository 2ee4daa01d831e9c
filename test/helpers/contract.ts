import type { ValidateFunction } from 'ajv';
import { createContractAjv, describeErrors, loadOpenApi } from '../../src/http/schemas';

const document = loadOpenApi() as ReturnType<typeof loadOpenApi> & {
  components: { responses: Record<string, unknown>; headers: Record<string, unknown> };
};
const ajv = createContractAjv(document);

interface HeaderObject {
  required?: boolean;
  schema?: unknown;
  $ref?: string;
}
interface ResponseObject {
  $ref?: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema?: unknown }>;
}

function resolve<T extends { $ref?: string }>(object: T): T {
  if (!object.$ref) return object;
  const path = object.$ref.replace(/^#\//, '').split('/');
  let target: unknown = document;
  for (const part of path) target = (target as Record<string, unknown>)[part];
  return resolve(target as T);
}

const templates = Object.keys(document.paths).map((template) => ({
  template,
  // Express routes match with or without a trailing slash (Keycloak's admin client asks for `users/`), and so does the router.
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
}));

/** The template of `openapi.yaml` that a concrete path matches, if any. */
export function templateOf(path: string): string | undefined {
  const bare = path.split('?')[0] ?? path;
  return templates.find(({ pattern }) => pattern.test(bare))?.template;
}

/**
 * The path as the contract knows it: `path` without the mount prefix a host
 * put before the router (`/gateway/realms/...` is `/realms/...`), when some
 * ending of it is a route of `openapi.yaml`.
 */
export function contractPathOf(path: string): string | undefined {
  const [bare = path, query] = path.split('?');
  const segments = bare.split('/').slice(1);
  for (let skip = 0; skip < segments.length; skip++) {
    const candidate = `/${segments.slice(skip).join('/')}`;
    if (templateOf(candidate) !== undefined) return query === undefined ? candidate : `${candidate}?${query}`;
  }
  return undefined;
}

const compiled = new Map<string, ValidateFunction>();

function validateAgainst(schema: unknown, value: unknown): string | undefined {
  const wrapped = JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"urn:password-resources:openapi#/components/')) as object;
  const key = JSON.stringify(wrapped);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(wrapped);
    compiled.set(key, validate);
  }
  return validate(value) ? undefined : describeErrors(validate.errors ?? []) + ` ${JSON.stringify(validate.errors)}`;
}

/** What the check reads of a response, whichever client received it (supertest's `Response` is one). */
export interface ContractResponse {
  readonly status: number;
  /** Lower-case names; `set-cookie` as one value per cookie. */
  readonly headers: Record<string, unknown>;
  readonly text: string;
  /** The parsed body of a JSON answer. */
  readonly body: unknown;
}

/**
 * Hold a real response against `openapi.yaml`: the status is documented for
 * the route, the body matches its schema, every required header is there and
 * matches. `path` is the request path without any mount prefix; a path that is
 * no route of the contract must be the standalone server's `not_found`.
 */
export function expectContract(method: string, path: string, res: ContractResponse): void {
  const template = templateOf(path);
  let response: ResponseObject | undefined;
  const where = `${method.toUpperCase()} ${path} -> ${res.status}`;
  if (template === undefined) {
    response = resolve({ $ref: '#/components/responses/NotFound' });
    if (res.status !== 404) throw new Error(`${where}: the path is not in openapi.yaml, yet the answer is not 404`);
  } else {
    const operation = (document.paths[template] as Record<string, { responses: Record<string, ResponseObject> }>)[method.toLowerCase()];
    if (!operation) {
      response = resolve({ $ref: '#/components/responses/NotFound' });
      if (res.status !== 404) throw new Error(`${where}: ${method} is not documented for ${template}`);
    } else {
      const documented = operation.responses[String(res.status)];
      if (!documented) throw new Error(`${where}: status ${res.status} is not documented for ${method} ${template}`);
      response = resolve(documented);
    }
  }
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const resolved = resolve(header);
    const value: unknown = res.headers[name.toLowerCase()];
    if (value === undefined) {
      if (resolved.required) throw new Error(`${where}: required header ${name} is missing`);
      continue;
    }
    // Set-Cookie comes as one value per cookie.
    for (const one of Array.isArray(value) ? (value as unknown[]) : [value]) {
      const problem = validateAgainst(resolved.schema, one);
      if (problem) throw new Error(`${where}: header ${name}: ${JSON.stringify(one)}: ${problem}`);
    }
  }
  const content = response.content;
  if (!content) {
    if (res.text !== '') throw new Error(`${where}: body not documented, got ${res.text}`);
    return;
  }
  const type = String(res.headers['content-type']).split(';')[0] ?? '';
  const media = content[type];
  if (!media) throw new Error(`${where}: content type ${type} is not documented (${Object.keys(content).join(', ')})`);
  const problem = validateAgainst(media.schema, type === 'application/json' ? res.body : res.text);
  if (problem) throw new Error(`${where}: body ${JSON.stringify(res.body)}: ${problem}`);
}
