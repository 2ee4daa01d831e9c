import { call, expectError } from '../helpers/api';
import { audienceMapper, KeycloakAdmin, peek, uniqueRealm } from '../helpers/keycloak';
import type { TestService } from '../helpers/setup';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';

/**
 * Key rotation as Keycloak documents it: add an RSA key provider with a
 * higher priority (it signs from then on), later disable the old provider
 * (its key leaves the JWKS). The service is never restarted.
 */
const keycloak = KeycloakAdmin.fromEnv();
const realm = uniqueRealm('rotation');
const PASSWORD = 'rotating keys password';
/** Short bounds so the test waits seconds, not jose's default 30 s cooldown and 10 min max age. */
const JWKS = { cooldownMs: 1_000, cacheMaxAgeMs: 3_000 };

let service: TestService;

interface Component {
  id: string;
  name: string;
  providerId: string;
  config: Record<string, string[]>;
}

async function signingKid(): Promise<string> {
  const { body } = await keycloak.request<{ active: Record<string, string> }>('GET', `/${realm}/keys`);
  const kid = body.active.RS256;
  if (!kid) throw new Error('no active RS256 key');
  return kid;
}

async function token(): Promise<string> {
  return (await keycloak.login(realm, 'spa', 'rosa', PASSWORD)).access_token;
}

const validate = (bearer: string) => call(service.app, 'post', `/realms/${realm}/password-resources/validate-password`, { token: bearer, body: { password: PASSWORD } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await keycloak.createRealm(realm);
  await keycloak.createClient(realm, { clientId: 'spa', publicClient: true, directAccessGrantsEnabled: true, protocolMappers: [audienceMapper('password-resources')] });
  const id = await keycloak.createUser(realm, { username: 'rosa', password: PASSWORD });
  service = await startTestService('keycloak-rotation', {
    realms: { [realm]: { issuer: keycloak.issuerOf(realm), audience: 'password-resources', bruteForce: RELAXED_BRUTE_FORCE } },
    jwks: JWKS,
  });
  await service.resources.accounts.createUser({ realm, id, username: 'rosa', password: PASSWORD });
});
afterAll(async () => {
  await service.close();
  await keycloak.deleteRealm(realm);
});

it('takes tokens of a new key at once and refuses those of a disabled key within the cache bound', async () => {
  const oldKid = await signingKid();
  const oldToken = await token();
  expect(peek(oldToken).header.kid).toBe(oldKid);
  expect((await validate(oldToken)).body).toEqual({ valid: true });

  const { body: realmRep } = await keycloak.request<{ id: string }>('GET', `/${realm}`);
  await keycloak.request('POST', `/${realm}/components`, {
    name: 'rsa-rotated',
    providerId: 'rsa-generated',
    providerType: 'org.keycloak.keys.KeyProvider',
    parentId: realmRep.id,
    config: { priority: ['200'], keySize: ['2048'], algorithm: ['RS256'], enabled: ['true'], active: ['true'] },
  });
  const newKid = await signingKid();
  expect(newKid).not.toBe(oldKid);
  const newToken = await token();
  expect(peek(newToken).header.kid).toBe(newKid);

  // An unknown kid makes jose refetch the key set, at most once per cooldown.
  await sleep(JWKS.cooldownMs + 100);
  expect((await validate(newToken)).body).toEqual({ valid: true });
  // The old key is still published: its tokens still work.
  expect((await validate(oldToken)).body).toEqual({ valid: true });

  const { body: providers } = await keycloak.request<Component[]>('GET', `/${realm}/components?type=org.keycloak.keys.KeyProvider`);
  const old = providers.find((c) => c.providerId === 'rsa-generated' && c.name !== 'rsa-rotated');
  if (!old) throw new Error('no original rsa-generated provider');
  await keycloak.request('PUT', `/${realm}/components/${old.id}`, { ...old, config: { ...old.config, enabled: ['false'] } });
  const jwks = (await (await fetch(`${keycloak.issuerOf(realm)}/protocol/openid-connect/certs`)).json()) as { keys: { kid: string }[] };
  expect(jwks.keys.map((k) => k.kid)).not.toContain(oldKid);

  const disabledAt = Date.now();
  let refusedAfterMs: number | undefined;
  while (Date.now() - disabledAt < JWKS.cacheMaxAgeMs + 2_000) {
    const res = await validate(oldToken);
    if (res.status === 401) {
      expectError(res, 401, 'invalid_token', 'error');
      refusedAfterMs = Date.now() - disabledAt;
      break;
    }
    expect(res.status).toBe(200);
    await sleep(250);
  }
  expect(refusedAfterMs).toBeDefined();
  expect(refusedAfterMs).toBeLessThanOrEqual(JWKS.cacheMaxAgeMs + 1_000);
  expect((await validate(newToken)).body).toEqual({ valid: true });
});
