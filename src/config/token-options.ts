/**
 * Options of bearer tokens: whose tokens a realm trusts (issuer, key set,
 * audience), what they must carry (clients, scopes, roles, a recent login),
 * when they stop working, and how the key set is fetched.
 */
import { checkHttpUrl } from './checks';
import { DEFAULTS } from './defaults';
import { boolean, fail, integer, nameList, refuseUnknown } from './option-checks';

/** A realm's token settings. */
export interface RealmTokenOptions {
  /** The exact `iss` of the realm's tokens, e.g. `https://idp.example/realms/alpha`. */
  readonly issuer: string;
  /** Where the realm's keys are published. Default: Keycloak's `<issuer>/protocol/openid-connect/certs`. */
  readonly jwksUri?: string;
  /** When set, the token's `aud` must contain it. Default: unset (not checked). */
  readonly audience?: string;
  /**
   * Accept access tokens typed only as plain `JWT`, without a payload `typ`:
   * what Auth0 and Okta issue. Such a token looks like an ID token, so this
   * needs `audience` (your API's identifier, which ID tokens do not carry).
   * Default: false: only `at+jwt` (RFC 9068) and Keycloak's access tokens
   * (payload `typ: "Bearer"`) are accepted.
   */
  readonly acceptPlainJwtAccessTokens?: boolean;
  /**
   * Refuse tokens issued at or before the second of the user's last password
   * change (`iat` has one-second granularity). Default: true.
   */
  readonly revokeTokensOnPasswordChange?: boolean;
  /** When set, the token's `azp` (the client it was issued to) must be one of these. Default: any client. */
  readonly allowedClients?: readonly string[];
  /** Scopes the token's `scope` must all contain. Default: none. */
  readonly requiredScopes?: readonly string[];
  /** Realm roles the token's `realm_access.roles` must all contain (Keycloak's layout). Default: none. */
  readonly requiredRealmRoles?: readonly string[];
  /** Client roles, by client id, the token's `resource_access.<client>.roles` must contain. Default: none. */
  readonly requiredClientRoles?: Readonly<Record<string, readonly string[]>>;
  /**
   * Seconds: `reset-password` needs a token whose `auth_time` is this recent
   * (Keycloak's `maxAuthAge`; RFC 9470 step-up). Default: unset (not checked).
   */
  readonly maxAuthAge?: number;
}

/** A realm's token settings, checked and completed. */
export interface ResolvedTokenRules {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string | undefined;
  readonly acceptPlainJwtAccessTokens: boolean;
  readonly revokeTokensOnPasswordChange: boolean;
  readonly allowedClients: readonly string[] | undefined;
  readonly requiredScopes: readonly string[];
  readonly requiredRealmRoles: readonly string[];
  readonly requiredClientRoles: Readonly<Record<string, readonly string[]>>;
  readonly maxAuthAge: number | undefined;
}

/** How the key set is fetched and cached; jose's defaults unless configured. */
export interface JwksOptions {
  readonly timeoutMs: number;
  readonly cooldownMs: number;
  readonly cacheMaxAgeMs: number;
}

/** The service-wide token settings. */
export interface TokenOptions {
  /** Seconds of clock skew allowed on `exp`, `nbf`, `iat`. Default: 30. */
  readonly clockToleranceSeconds?: number;
  /** Key set fetching. Defaults: timeout 5 s, cooldown 30 s, max age 10 min. */
  readonly jwks?: Partial<JwksOptions>;
}

const JWKS_OPTION_NAMES = ['timeoutMs', 'cooldownMs', 'cacheMaxAgeMs'];

/** Where a realm's keys are: its `jwksUri`, or Keycloak's path below the issuer. */
function trustOf(at: string, realm: RealmTokenOptions): Pick<ResolvedTokenRules, 'issuer' | 'jwksUri' | 'audience' | 'acceptPlainJwtAccessTokens'> {
  const issuerProblem = typeof realm.issuer === 'string' ? checkHttpUrl(realm.issuer) : 'is required (the exact "iss" of the realm\'s tokens)';
  if (issuerProblem) fail(`${at}.issuer`, issuerProblem);
  const jwksUri = realm.jwksUri ?? `${realm.issuer.replace(/\/+$/, '')}/protocol/openid-connect/certs`;
  const jwksProblem = checkHttpUrl(jwksUri);
  if (jwksProblem) fail(`${at}.jwksUri`, jwksProblem);
  if (realm.audience !== undefined && (typeof realm.audience !== 'string' || realm.audience === '')) {
    fail(`${at}.audience`, `must be a non-empty string, got ${JSON.stringify(realm.audience)}`);
  }
  const acceptPlainJwtAccessTokens = boolean(`${at}.acceptPlainJwtAccessTokens`, realm.acceptPlainJwtAccessTokens, false);
  if (acceptPlainJwtAccessTokens && realm.audience === undefined) {
    fail(
      `${at}.acceptPlainJwtAccessTokens`,
      `needs ${at}.audience: an ID token is a plain JWT too, and only the audience (your API's identifier, e.g. Auth0's API audience) tells an access token from it`,
    );
  }
  return { issuer: realm.issuer, jwksUri, audience: realm.audience, acceptPlainJwtAccessTokens };
}

/** Check a realm's token settings (`at` is its option path, `options.realms.<name>`). */
export function resolveTokenRules(at: string, realm: RealmTokenOptions): ResolvedTokenRules {
  const trust = trustOf(at, realm);
  if (realm.revokeTokensOnPasswordChange !== undefined && typeof realm.revokeTokensOnPasswordChange !== 'boolean') {
    fail(`${at}.revokeTokensOnPasswordChange`, `must be true or false, got ${JSON.stringify(realm.revokeTokensOnPasswordChange)}`);
  }
  return {
    ...trust,
    revokeTokensOnPasswordChange: realm.revokeTokensOnPasswordChange ?? DEFAULTS.revokeTokensOnPasswordChange,
    allowedClients: nameList(`${at}.allowedClients`, realm.allowedClients),
    requiredScopes: nameList(`${at}.requiredScopes`, realm.requiredScopes) ?? [],
    requiredRealmRoles: nameList(`${at}.requiredRealmRoles`, realm.requiredRealmRoles) ?? [],
    requiredClientRoles: Object.freeze(
      Object.fromEntries(
        Object.entries(realm.requiredClientRoles ?? {}).map(([client, roles]) => [client, nameList(`${at}.requiredClientRoles.${client}`, roles) ?? []]),
      ),
    ),
    maxAuthAge: realm.maxAuthAge === undefined ? undefined : integer(`${at}.maxAuthAge`, realm.maxAuthAge, 0, 1, 86_400),
  };
}

export function resolveClockTolerance(value: number | undefined): number {
  return integer('options.clockToleranceSeconds', value, DEFAULTS.clockToleranceSeconds, 0, 300);
}

export function resolveJwks(given: Partial<JwksOptions> | undefined): JwksOptions {
  const jwks = given ?? {};
  refuseUnknown('options.jwks', jwks, JWKS_OPTION_NAMES);
  return Object.freeze({
    timeoutMs: integer('options.jwks.timeoutMs', jwks.timeoutMs, DEFAULTS.jwksTimeoutMs, 1, 60_000),
    cooldownMs: integer('options.jwks.cooldownMs', jwks.cooldownMs, DEFAULTS.jwksCooldownMs, 0, 3_600_000),
    cacheMaxAgeMs: integer('options.jwks.cacheMaxAgeMs', jwks.cacheMaxAgeMs, DEFAULTS.jwksCacheMaxAgeMs, 0, 86_400_000),
  });
}
