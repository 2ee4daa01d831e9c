/**
 * The checks of the library's options: each throws an `OptionsError` whose
 * message names the option (`options.realms.alpha.bruteForce.failureFactor`),
 * the value and what is expected.
 */
import { unknownKeys } from '../domain/did-you-mean';
import { checkInteger } from './checks';

/** Thrown when options are wrong; the message names the option, the value and the fix. */
export class OptionsError extends Error {
  override name = 'OptionsError';
}

export function fail(name: string, problem: string): never {
  throw new OptionsError(`${name}: ${problem}`);
}

/** Refuse keys of `object` that are not `known`, with a "did you mean" for near misses. */
export function refuseUnknown(name: string, object: object, known: readonly string[]): void {
  const extra = unknownKeys(object, known);
  if (extra.length > 0) fail(name, `unknown ${extra.length === 1 ? 'option' : 'options'} ${extra.join(', ')}`);
}

export function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const resolved = value ?? fallback;
  const problem = checkInteger(resolved, min, max);
  if (problem) fail(name, problem);
  return resolved;
}

export function boolean(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(name, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

export function isNameList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && /^\S+$/.test(item));
}

export function nameList(name: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!isNameList(value)) fail(name, `must be a non-empty list of names without spaces, got ${JSON.stringify(value)}`);
  return Object.freeze([...value]);
}
