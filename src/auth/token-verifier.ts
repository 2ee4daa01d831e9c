import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwksCache, jwtVerify } from 'jose';
import type { JWKSCacheInput, JWTHeaderParameters, JWTPayload, JWTVerifyGetKey } from 'jose';
import type { JwksOptions } from '../config/token-options';
import { InvalidTokenError, TemporarilyUnavailableError } from '../errors';

/** Asymmetric algorithms only: `none` and the HMAC family are never accepted. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Header parameters that point at keys of the sender's choosing; a token carrying one is refused. */
const KEY_REFERENCE_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'] as const;

/** RFC 9068's header `typ` of access tokens, with and without the `application/` prefix (RFC 7515 section 4.1.9). */
const ACCESS_TOKEN_HEADER_TYPES = ['at+jwt', 'application/at+jwt'];

/** The header `typ` of a token typed only as a JWT; an absent `typ` means the same (RFC 7519 section 5.1). */
const PLAIN_JWT_HEADER_TYPES = ['jwt', 'application/jwt'];

/** Keycloak's payload `typ` of access tokens; its ID, refresh and logout tokens carry other values. */
const KEYCLOAK_ACCESS_TOKEN_TYP = 'bearer';

/** How to trust tokens of one realm. */
export interface TokenTrust {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string | undefined;
  /**
   * Accept tokens typed only as plain `JWT` with no payload `typ` (Auth0's and
   * Okta's access tokens). An ID token looks the same, so only the audience
   * tells them apart: options refuse this without `audience`.
   */
  readonly acceptPlainJwtAccessTokens: boolean;
}

/** The claims the service relies on, from a token that passed every check. */
export interface VerifiedToken {
  readonly subject: string;
  readonly issuedAt: number | undefined;
  readonly clientId: string | undefined;
  readonly claims: JWTPayload;
}

/** Told when the key set was fetched, and when a request failed because it could not be. */
export type JwksObserver = (outcome: 'fetched' | 'failed') => void;

/** Verifies one realm's bearer tokens. */
export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

/**
 * Keycloak 25+ gives its `admin-cli` client lightweight access tokens: no
 * subject, no roles, which Keycloak looks up in its own sessions. A service
 * outside Keycloak needs them in the token.
 */
const LIGHTWEIGHT_TOKEN =
  'The token has no subject: a lightweight access token (Keycloak\'s admin-cli issues them by default) carries neither subject nor roles; turn off "Always use lightweight access token" (client.use.lightweight.access.token.enabled) on its client.';

function describe(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'The token was not issued by this realm.';
      case 'aud':
        return 'The token is not meant for this service (audience).';
      case 'nbf':
      case 'iat':
        return 'The token is not valid yet.';
      case 'sub':
        if (error.reason === 'missing') return LIGHTWEIGHT_TOKEN;
        return `The token's "sub" claim is not acceptable.`;
      default:
        return `The token's "${error.claim}" claim is not acceptable.`;
    }
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The token is not signed with an allowed algorithm.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is not valid.';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'The token is signed with a key this realm does not publish.';
  return 'The token is malformed or not acceptable.';
}

/** Keycloak's issuer shape, with a realm name that is safe to repeat in a message. */
const KEYCLOAK_ISSUER_REALM = /\/realms\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/?$/;

/**
 * The `iss` a token claims, read before anything is verified: only to choose
 * whose keys verify it and to name a foreign issuer in a refusal. Undefined
 * when the token is not a JWT or has no string `iss`.
 */
export function claimedIssuer(token: string): string | undefined {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** An issuer as a refusal names it: `realm master` for Keycloak's shape, else `another issuer` (the claim is the sender's text). */
export function describeIssuer(issuer: string): string {
  const realm = KEYCLOAK_ISSUER_REALM.exec(issuer)?.[1];
  return realm === undefined ? 'another issuer' : `realm ${realm}`;
}

/**
 * Refuse every token that is not typed as an access token (RFC 8725 section
 * 3.11): RFC 9068's `at+jwt`, or Keycloak's `JWT` whose payload `typ` is
 * `Bearer`. ID tokens, DPoP proofs, logout tokens and untyped JWTs are not
 * bearer credentials for this API, unless the realm accepts plain JWTs.
 */
export function checkTokenType(header: Pick<JWTHeaderParameters, 'typ'>, payload: JWTPayload, trust: Pick<TokenTrust, 'acceptPlainJwtAccessTokens'>): void {
  const headerType = typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined;
  if (payload.typ !== undefined && typeof payload.typ !== 'string') throw new InvalidTokenError('The token\'s "typ" claim is not a string.');
  const payloadType = payload.typ;
  const isKeycloakAccess = payloadType?.toLowerCase() === KEYCLOAK_ACCESS_TOKEN_TYP;
  if (headerType !== undefined && ACCESS_TOKEN_HEADER_TYPES.includes(headerType)) {
    if (payloadType === undefined || isKeycloakAccess) return;
    throw new InvalidTokenError(`The token is not an access token: its "typ" claim is "${payloadType.slice(0, 32)}".`);
  }
  if (headerType !== undefined && !PLAIN_JWT_HEADER_TYPES.includes(headerType)) {
    throw new InvalidTokenError(`The token is not an access token: its header type is "${headerType.slice(0, 32)}"; expected "at+jwt".`);
  }
  if (isKeycloakAccess) return;
  if (payloadType !== undefined) {
    const kind = payloadType.toLowerCase() === 'id' ? 'an ID token' : `typed "${payloadType.slice(0, 32)}"`;
    throw new InvalidTokenError(`The token is not an access token: it is ${kind}.`);
  }
  if (trust.acceptPlainJwtAccessTokens) return;
  throw new InvalidTokenError('The token is not typed as an access token: expected header type "at+jwt", or a "typ" claim of "Bearer".');
}

/**
 * A key-set function that tells "the key set could not be had" (503: fail
 * closed, retry) from "the key set has no key for this token" (401).
 */
function keySet(jwksUri: string, options: JwksOptions, observe: JwksObserver): JWTVerifyGetKey {
  // jose writes the cache's `uat` after each successful fetch (its documented way to tell a new fetch).
  const cache: JWKSCacheInput = {};
  let updatedAt: number | undefined;
  Object.defineProperty(cache, 'uat', {
    enumerable: true,
    get: () => updatedAt,
    set: (value: number) => {
      updatedAt = value;
      observe('fetched');
    },
  });
  const remote = createRemoteJWKSet(new URL(jwksUri), {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    [jwksCache]: cache,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) throw error;
      observe('failed');
      throw new TemporarilyUnavailableError("The realm's signing keys cannot be fetched; retry later.", {
        detail: `JWKS ${jwksUri}: ${error instanceof Error ? error.message : String(error)}`,
        cause: error,
      });
    }
  };
}

/**
 * Build the verifier of one realm's access tokens: issuer exact, asymmetric
 * algorithms only, `exp` required, audience when configured, no key taken from
 * the token itself, and only tokens typed as access tokens (`checkTokenType`).
 *
 * @example
 * const verify = createTokenVerifier(
 *   { issuer: 'https://idp.example/realms/alpha', jwksUri: 'https://idp.example/realms/alpha/protocol/openid-connect/certs', audience: undefined, acceptPlainJwtAccessTokens: false },
 *   { clockToleranceSeconds: 30, jwks: { timeoutMs: 5000, cooldownMs: 30000, cacheMaxAgeMs: 600000 } },
 * );
 * const { subject } = await verify(token);
 */
export function createTokenVerifier(
  trust: TokenTrust,
  options: { clockToleranceSeconds: number; jwks: JwksOptions; onJwks?: JwksObserver },
): TokenVerifier {
  const getKey = keySet(trust.jwksUri, options.jwks, options.onJwks ?? (() => undefined));
  const own = describeIssuer(trust.issuer);
  return async (token) => {
    // Named before the signature is looked at: another realm's key is not the reason, its issuer is.
    const claimed = claimedIssuer(token);
    if (claimed !== undefined && claimed !== trust.issuer) {
      const theirs = describeIssuer(claimed);
      throw new InvalidTokenError(theirs === own || own === 'another issuer' ? 'The token was not issued by this realm.' : `The token was issued by ${theirs}, not by ${own}.`);
    }
    let payload: JWTPayload;
    let protectedHeader: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader } = await jwtVerify(token, async (header, input) => {
        const reference = KEY_REFERENCE_HEADERS.find((name) => name in header);
        if (reference) throw new InvalidTokenError(`The token carries a "${reference}" header; keys are only taken from the realm's key set.`);
        return getKey(header, input);
      }, {
        algorithms: ALLOWED_ALGORITHMS,
        issuer: trust.issuer,
        ...(trust.audience === undefined ? {} : { audience: trust.audience }),
        requiredClaims: ['exp', 'sub'],
        clockTolerance: options.clockToleranceSeconds,
      }));
    } catch (error) {
      if (error instanceof InvalidTokenError || error instanceof TemporarilyUnavailableError) throw error;
      if (error instanceof joseErrors.JOSEError) throw new InvalidTokenError(describe(error), { detail: error.code, cause: error });
      throw new InvalidTokenError('The token is malformed or not acceptable.', { cause: error });
    }
    // After the signature: the type of a forged token says nothing.
    checkTokenType(protectedHeader, payload, trust);
    const { sub, azp, iat } = payload;
    if (typeof sub !== 'string' || sub === '') throw new InvalidTokenError('The token has no subject.');
    // jose checks `iat` only against a maximum age; a token from the future is refused here.
    if (iat !== undefined && iat > Date.now() / 1000 + options.clockToleranceSeconds) {
      throw new InvalidTokenError('The token is not valid yet.');
    }
    return { subject: sub, issuedAt: iat, clientId: typeof azp === 'string' ? azp : undefined, claims: payload };
  };
}
