/**
 * The one place `WWW-Authenticate` challenges are built (RFC 6750 section 3).
 * Values are quoted strings; RFC 6750 allows only %x20-21 / %x23-5B / %x5D-7E
 * in them, so anything else (quotes, backslashes, control and non-ASCII
 * characters) is replaced, never escaped into the header.
 */

/** Extra challenge parameters; values are made safe here. */
export type ChallengeParameters = Readonly<Record<string, string>>;

function quote(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "'")}"`;
}

/**
 * @example
 * bearerChallenge('alpha');                                // Bearer realm="alpha"
 * bearerChallenge('alpha', { error: 'invalid_token' });    // Bearer realm="alpha", error="invalid_token"
 */
export function bearerChallenge(realm: string, parameters: ChallengeParameters = {}): string {
  const pairs = Object.entries({ realm, ...parameters }).map(([name, value]) => `${name}=${quote(value)}`);
  return `Bearer ${pairs.join(', ')}`;
}
