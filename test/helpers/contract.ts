import type { ValidateFunction } from 'ajv';
import type { Response } from 'supertest';
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
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** The template of `openapi.yaml` that a concrete path matches, if any. */
export function templateOf(path: string): string | undefined {
  const bare = path.split('?')[0] ?? path;
  return templates.find(({ pattern }) => pattern.test(bare))?.template;
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

/**
 * Hold a real response against `openapi.yaml`: the status is documented for
 * the route, the body matches its schema, every required header is there and
 * matches. `path` is the request path without any mount prefix; a path that is
 * no route of the contract must be the standalone server's `not_found`.
 */
export function expectContract(method: string, path: string, res: Response): void {
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
    const problem = validateAgainst(resolved.schema, value);
    if (problem) throw new Error(`${where}: header ${name}: ${JSON.stringify(value)}: ${problem}`);
  }
  const content = response.content;
  if (!content) {
    if (res.text !== '') throw new Error(`${where}: body not documented, got ${res.text}`);
    return;
  }
  const text = content['text/plain'];
  if (text && !content['application/json']) {
    if (!/^text\/plain/.test(String(res.headers['content-type']))) {
      throw new Error(`${where}: content type ${String(res.headers['content-type'])} is not text/plain`);
    }
    const problem = validateAgainst(text.schema, res.text);
    if (problem) throw new Error(`${where}: body: ${problem}`);
    return;
  }
  const media = content['application/json'];
  if (!media) throw new Error(`${where}: no application/json content documented`);
  if (!/^application\/json/.test(String(res.headers['content-type']))) {
    throw new Error(`${where}: content type ${String(res.headers['content-type'])} is not application/json`);
  }
  const problem = validateAgainst(media.schema, res.body);
  if (problem) throw new Error(`${where}: body ${JSON.stringify(res.body)}: ${problem}`);
}
