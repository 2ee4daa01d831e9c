import { InvalidTokenError } from '../errors';
import { claimedIssuer, describeIssuer } from './token-verifier';
import type { TokenVerifier } from './token-verifier';

/** A realm whose tokens an admin API takes, and the verifier of its tokens. */
export interface TrustedIssuer {
  readonly issuer: string;
  readonly verify: TokenVerifier;
}

/**
 * The verifier of one realm's admin API: the realm's own tokens, and those of
 * its admin realm (Keycloak's `master`), each checked against its own issuer
 * and key set. The token's claimed `iss` only chooses the verifier; a token of
 * any other issuer is refused with the reason, before any key is looked for.
 *
 * @example
 * const verify = createAdminTokenVerifier('demo', { issuer: demoIssuer, verify: demoVerifier }, { issuer: masterIssuer, verify: masterVerifier });
 */
export function createAdminTokenVerifier(realm: string, own: TrustedIssuer, adminRealm: TrustedIssuer | undefined): TokenVerifier {
  return async (token) => {
    const claimed = claimedIssuer(token);
    if (adminRealm !== undefined && claimed === adminRealm.issuer) return adminRealm.verify(token);
    if (claimed === undefined || claimed === own.issuer) return own.verify(token);
    throw new InvalidTokenError(`The token was issued by ${describeIssuer(claimed)}, which may not administer realm ${realm}.`);
  };
}
