/**
 * The admin API's limits on Keycloak's attribute map (openapi.yaml's
 * `UserAttributes`: how many attributes, how long a name, how many values,
 * how long a value), applied to each imported user. A user the admin API
 * would refuse is not imported in part: the import skips it and says which
 * limit it breaks, so that every imported user can be read and written back
 * through the admin API unchanged.
 */
import type { ErrorObject } from 'ajv';
import { componentValidator, createContractAjv, loadOpenApi } from '../http/schemas';

/** Why an attribute map breaks the admin API's limits, or undefined when it keeps them. */
export type AttributeCheck = (attributes: Readonly<Record<string, readonly string[]>>) => string | undefined;

/** JSON Pointer segments (RFC 6901), unescaped. */
function segments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function quoted(name: string): string {
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
}

/** One problem, in the words of the attribute map: `attributes."department"[0] has more than 2048 characters`. */
function problem(error: ErrorObject, attributes: Readonly<Record<string, readonly string[]>>): string | undefined {
  const limit = String(error.params.limit);
  // ajv reports a bad name twice: the name's own error (with propertyName) and a summary without it.
  if (error.keyword === 'propertyNames') return undefined;
  if (error.propertyName !== undefined) {
    const name = error.propertyName;
    return error.keyword === 'minLength' ? 'an attribute has an empty name' : `the attribute name ${quoted(name)} has ${name.length} characters, more than ${limit}`;
  }
  const [name, index] = segments(error.instancePath);
  const where = name === undefined ? 'attributes' : `attributes.${quoted(name)}${index === undefined ? '' : `[${index}]`}`;
  switch (error.keyword) {
    case 'maxProperties':
      return `${Object.keys(attributes).length} attributes, more than ${limit}`;
    case 'maxItems':
      return `${where} has ${name === undefined ? '?' : (attributes[name]?.length ?? '?')} values, more than ${limit}`;
    case 'maxLength':
      return `${where} has ${name === undefined || index === undefined ? '?' : (attributes[name]?.[Number(index)]?.length ?? '?')} characters, more than ${limit}`;
    case 'minLength':
      return `${where} is empty`;
    default:
      return `${where} ${error.message ?? 'is not acceptable'}`;
  }
}

/**
 * The check, compiled from openapi.yaml's `UserAttributes` (the schema the
 * admin API validates request bodies with). Compile once per import.
 */
export function attributeLimits(): AttributeCheck {
  const validate = componentValidator(createContractAjv(loadOpenApi()), 'UserAttributes');
  return (attributes) => {
    if (validate(attributes)) return undefined;
    const problems = (validate.errors ?? []).map((error) => problem(error, attributes)).filter((text): text is string => text !== undefined);
    return `attributes beyond the admin API's limits (it would refuse this user): ${[...new Set(problems)].join('; ')}`;
  };
}
