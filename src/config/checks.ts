/**
 * Small checks shared by the environment loader and the library's options.
 * Each returns what is wrong (to be prefixed with the setting's name), or
 * `undefined` when the value is fine.
 */

/** Realm names as they appear in paths and issuers. */
export const REALM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkHttpUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be an absolute http(s) URL, got "${value}"`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an http(s) URL, got "${value}"`;
  return undefined;
}

export function checkInteger(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`;
  }
  return undefined;
}
