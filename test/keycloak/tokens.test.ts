import { call, expectError } from '../helpers/api';
import { audienceMapper, KeycloakAdmin, peek, uniqueRealm } from '../helpers/keycloak';
import type { TestService } from '../helpers/setup';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';

/**
 * Keycloak's own access tokens at our account API: the realm's issuer and
 * JWKS taken from its discovery document, users imported with Keycloak's ids.
 */
const keycloak = KeycloakAdmin.fromEnv();
const realm = uniqueRealm('tokens');
const locking = uniqueRealm('locking');
const AUDIENCE = 'password-resources';
const PASSWORD = 'kc-user password 1';

let service: TestService;
let aliceId: string;

interface Discovery {
  issuer: string;
  jwks_uri: string;
}

async function discover(name: string): Promise<Discovery> {
  const res = await fetch(`${keycloak.issuerOf(name)}/.well-known/openid-configuration`);
  return (await res.json()) as Discovery;
}

async function setUpRealm(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  await keycloak.createRealm(name, extra);
  // Tokens for `spa` carry our audience next to Keycloak's `account`: an array.
  await keycloak.createClient(name, { clientId: 'spa', publicClient: true, directAccessGrantsEnabled: true, protocolMappers: [audienceMapper(AUDIENCE)] });
  // Without the full scope, `narrow`'s tokens name our audience alone: a string.
  await keycloak.createClient(name, { clientId: 'narrow', publicClient: true, directAccessGrantsEnabled: true, fullScopeAllowed: false, protocolMappers: [audienceMapper(AUDIENCE)] });
  // No audience mapper: tokens for Keycloak's account console only.
  await keycloak.createClient(name, { clientId: 'other', publicClient: true, directAccessGrantsEnabled: true });
  // Our audience in the ID token too: then only its type tells it from an access token.
  const inIdToken = audienceMapper(AUDIENCE);
  await keycloak.createClient(name, {
    clientId: 'id-audience',
    publicClient: true,
    directAccessGrantsEnabled: true,
    protocolMappers: [{ ...inIdToken, config: { ...(inIdToken.config as Record<string, string>), 'id.token.claim': 'true' } }],
  });
}

/** The same user in Keycloak (for its tokens) and in our store with Keycloak's id as subject. */
async function twinUser(name: string, username: string): Promise<string> {
  const id = await keycloak.createUser(name, { username, password: PASSWORD });
  await service.resources.accounts.createUser({ realm: name, id, username, password: PASSWORD });
  return id;
}

async function accessToken(name: string, username: string, clientId = 'spa'): Promise<string> {
  return (await keycloak.login(name, clientId, username, PASSWORD)).access_token;
}

beforeAll(async () => {
  await setUpRealm(realm);
  await setUpRealm(locking);
  const [tokens, locks] = await Promise.all([discover(realm), discover(locking)]);
  service = await startTestService('keycloak-tokens', {
    realms: {
      [realm]: { issuer: tokens.issuer, jwksUri: tokens.jwks_uri, audience: AUDIENCE, bruteForce: RELAXED_BRUTE_FORCE },
      [locking]: { issuer: locks.issuer, jwksUri: locks.jwks_uri, audience: AUDIENCE, bruteForce: { failureFactor: 3, quickLoginCheckMilliSeconds: 0 } },
    },
  });
  aliceId = await twinUser(realm, 'alice');
});
afterAll(async () => {
  await service.close();
  await keycloak.deleteRealm(realm);
  await keycloak.deleteRealm(locking);
});

const validate = (name: string, token: string, password = PASSWORD) =>
  call(service.app, 'post', `/realms/${name}/password-resources/validate-password`, { token, body: { password } });

describe('Keycloak access tokens', () => {
  it('are accepted, with the realm publishing an encryption key next to its signing keys', async () => {
    const jwks = (await (await fetch((await discover(realm)).jwks_uri)).json()) as { keys: { use?: string; alg?: string }[] };
    // Keycloak 26 publishes an RSA-OAEP key for encryption; it must be skipped, never tried as a signing key.
    expect(jwks.keys).toEqual(expect.arrayContaining([expect.objectContaining({ use: 'enc', alg: 'RSA-OAEP' }), expect.objectContaining({ use: 'sig', alg: 'RS256' })]));
    const token = await accessToken(realm, 'alice');
    const { header, claims } = peek(token);
    expect({ alg: header.alg, typ: claims.typ, sub: claims.sub, iss: claims.iss }).toEqual({ alg: 'RS256', typ: 'Bearer', sub: aliceId, iss: keycloak.issuerOf(realm) });
    const res = await validate(realm, token);
    expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 200, body: { valid: true } });
  });

  it('are accepted with our audience in an array and alone as a string', async () => {
    const array = await accessToken(realm, 'alice', 'spa');
    const single = await accessToken(realm, 'alice', 'narrow');
    expect(peek(array).claims.aud).toEqual(expect.arrayContaining([AUDIENCE, 'account']));
    expect(peek(single).claims.aud).toBe(AUDIENCE);
    expect((await validate(realm, array)).status).toBe(200);
    expect((await validate(realm, single)).status).toBe(200);
  });

  it('are refused without our audience', async () => {
    const token = await accessToken(realm, 'alice', 'other');
    expect(peek(token).claims.aud).not.toContain(AUDIENCE);
    expectError(await validate(realm, token), 401, 'invalid_token', 'error');
  });

  it("refuses Keycloak's ID token and refresh token", async () => {
    const tokens = await keycloak.login(realm, 'spa', 'alice', PASSWORD);
    const idToken = tokens.id_token ?? '';
    // The ID token is signed like an access token, and even carries our audience when the client is it; its typ tells it apart.
    expect(peek(idToken).claims.typ).toBe('ID');
    const idRes = await validate(realm, idToken);
    expectError(idRes, 401, 'invalid_token', 'error');
    // Keycloak signs refresh tokens with a realm HMAC key (HS512): not an algorithm we accept.
    expect({ alg: peek(tokens.refresh_token).header.alg, typ: peek(tokens.refresh_token).claims.typ }).toEqual({ alg: 'HS512', typ: 'Refresh' });
    expectError(await validate(realm, tokens.refresh_token), 401, 'invalid_token', 'error');
  });

  it('refuses an ID token that carries our audience, for being an ID token', async () => {
    const tokens = await keycloak.login(realm, 'id-audience', 'alice', PASSWORD);
    const idToken = tokens.id_token ?? '';
    expect({ typ: peek(idToken).claims.typ, ours: [peek(idToken).claims.aud].flat().includes(AUDIENCE) }).toEqual({ typ: 'ID', ours: true });
    const res = await validate(realm, idToken);
    expectError(res, 401, 'invalid_token', 'error');
    expect((res.body as { error_description: string }).error_description).toBe('The token is not an access token: it is an ID token.');
    // The access token of the same sign-in is taken.
    expect((await validate(realm, tokens.access_token)).body).toEqual({ valid: true });
  });

  it("refuses another realm's token for the same user id", async () => {
    const token = await accessToken(realm, 'alice');
    expectError(await validate(locking, token), 401, 'invalid_token', 'error');
  });
});

describe('revocation with Keycloak tokens', () => {
  it('refuses a token that predates a change made through reset-password, and takes one issued after it', async () => {
    await twinUser(realm, 'rita');
    const before = await accessToken(realm, 'rita');
    const changed = await call(service.app, 'post', `/realms/${realm}/password-resources/reset-password`, {
      token: before,
      body: { currentPassword: PASSWORD, newPassword: 'a new passphrase for rita' },
    });
    expect(changed.status).toBe(204);
    const refused = await validate(realm, before, 'a new passphrase for rita');
    expectError(refused, 401, 'invalid_token', 'error');
    expect((refused.body as { error_description: string }).error_description).toMatch(/before the password was last changed/);
    // iat has one-second granularity: a token of the change's own second may predate it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = await accessToken(realm, 'rita');
    const res = await validate(realm, after, 'a new passphrase for rita');
    expect(res.body).toEqual({ valid: true });
  });
});

describe('lockout with Keycloak tokens', () => {
  it('counts wrong passwords on validate-password and reset-password together, then locks even the right one', async () => {
    await twinUser(locking, 'lou');
    const token = await accessToken(locking, 'lou');
    expect((await validate(locking, token, 'wrong 1')).body).toEqual({ valid: false });
    expect((await validate(locking, token, 'wrong 2')).body).toEqual({ valid: false });
    const wrongCurrent = await call(service.app, 'post', `/realms/${locking}/password-resources/reset-password`, {
      token,
      body: { currentPassword: 'wrong 3', newPassword: 'whatever new passphrase' },
    });
    expectError(wrongCurrent, 401, 'invalid_current_password', 'bare');
    expectError(await validate(locking, token), 429, 'too_many_failures');
    const reset = await call(service.app, 'post', `/realms/${locking}/password-resources/reset-password`, {
      token,
      body: { currentPassword: PASSWORD, newPassword: 'whatever new passphrase' },
    });
    expectError(reset, 429, 'too_many_failures');
  });
});
