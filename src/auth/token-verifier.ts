import { createRemoteJWKSet, errors as joseErrors, jwksCache, jwtVerify } from 'jose';
import type { JWKSCacheInput, JWTPayload, JWTVerifyGetKey } from 'jose';
import { InvalidTokenError, TemporarilyUnavailableError } from '../errors';

/** Asymmetric algorithms only: `none` and the HMAC family are never accepted. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Header parameters that point at keys of the sender's choosing; a token carrying one is refused. */
const KEY_REFERENCE_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'] as const;

/** Keycloak's `typ` claim of tokens that are not access tokens. */
const ACCESS_TOKEN_TYP = 'bearer';

/** How to trust tokens of one realm. */
export interface TokenTrust {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string | undefined;
}

/** How the key set is fetched and cached; jose's defaults unless configured. */
export interface JwksOptions {
  readonly timeoutMs: number;
  readonly cooldownMs: number;
  readonly cacheMaxAgeMs: number;
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
      default:
        return `The token's "${error.claim}" claim is not acceptable.`;
    }
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The token is not signed with an allowed algorithm.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is not valid.';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'The token is signed with a key this realm does not publish.';
  return 'The token is malformed or not acceptable.';
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
 * the token itself, Keycloak ID and refresh tokens refused.
 *
 * @example
 * const verify = createTokenVerifier(
 *   { issuer: 'https://idp.example/realms/alpha', jwksUri: 'https://idp.example/realms/alpha/protocol/openid-connect/certs', audience: undefined },
 *   { clockToleranceSeconds: 30, jwks: { timeoutMs: 5000, cooldownMs: 30000, cacheMaxAgeMs: 600000 } },
 * );
 * const { subject } = await verify(token);
 */
export function createTokenVerifier(
  trust: TokenTrust,
  options: { clockToleranceSeconds: number; jwks: JwksOptions; onJwks?: JwksObserver },
): TokenVerifier {
  const getKey = keySet(trust.jwksUri, options.jwks, options.onJwks ?? (() => undefined));
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async (header, input) => {
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
    const { sub, typ, azp, iat } = payload;
    if (typeof typ === 'string' && typ.toLowerCase() !== ACCESS_TOKEN_TYP) {
      throw new InvalidTokenError('The token is not an access token (its "typ" claim names another kind).');
    }
    if (typeof sub !== 'string' || sub === '') throw new InvalidTokenError('The token has no subject.');
    // jose checks `iat` only against a maximum age; a token from the future is refused here.
    if (iat !== undefined && iat > Date.now() / 1000 + options.clockToleranceSeconds) {
      throw new InvalidTokenError('The token is not valid yet.');
    }
    return { subject: sub, issuedAt: iat, clientId: typeof azp === 'string' ? azp : undefined, claims: payload };
  };
}
