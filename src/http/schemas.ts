import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';

/** `openapi.yaml` sits at the package root, two levels above this file in `src/` and in `dist/`. */
export const OPENAPI_PATH = join(__dirname, '..', '..', 'openapi.yaml');

/** The parsed contract. */
export interface OpenApiDocument {
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: { readonly schemas: Record<string, unknown> };
}

export function loadOpenApi(): OpenApiDocument {
  return parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument;
}

const SCHEMA_ID = 'urn:password-resources:openapi';

/**
 * An Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses) that knows every schema of
 * `components/schemas`, so `#/components/schemas/X` references resolve.
 */
export function createContractAjv(document: OpenApiDocument): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  // OpenAPI's own annotation keywords.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs', 'components']);
  ajv.addSchema({ $id: SCHEMA_ID, components: document.components }, undefined, undefined, false);
  return ajv;
}

/** The validator of one component schema, by name. */
export function componentValidator(ajv: Ajv2020, name: string): ValidateFunction {
  const validate = ajv.getSchema(`${SCHEMA_ID}#/components/schemas/${name}`);
  if (!validate) throw new Error(`openapi.yaml has no components.schemas.${name}`);
  return validate;
}

function field(error: ErrorObject): string {
  return error.instancePath.replace(/^\//, '').replace(/\//g, '.');
}

/** One sentence naming every problem Ajv found, for `error_description`. */
export function describeErrors(errors: readonly ErrorObject[]): string {
  const problems = errors.map((error) => {
    const at = field(error);
    switch (error.keyword) {
      case 'required':
        return `missing field "${String(error.params.missingProperty)}"`;
      case 'additionalProperties':
        return `unknown field "${String(error.params.additionalProperty)}"`;
      case 'type':
        return at === '' ? 'the body must be a JSON object' : `"${at}" must be a ${String(error.params.type)}`;
      case 'minLength':
        return `"${at}" must not be empty`;
      case 'maxLength':
        return `"${at}" must have at most ${String(error.params.limit)} characters`;
      case 'pattern':
        return `"${at}" must not contain NUL characters`;
      default:
        return `"${at}" ${error.message ?? 'is not acceptable'}`;
    }
  });
  return `Invalid request body: ${[...new Set(problems)].join('; ')}.`;
}
