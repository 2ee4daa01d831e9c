import { freePort } from '../../src/db/mongo-server';
import { createKeycloakCredentialStore } from '../../src/store/keycloak/credential-store';
import { describeCredentialStoreConformance } from '../helpers/credential-store-conformance';
import { KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';

describeCredentialStoreConformance('Keycloak', async () => {
  const keycloak = KeycloakAdmin.fromEnv();
  const realm = uniqueRealm('conformance');
  const client = { clientId: 'password-resources', clientSecret: 'conformance-secret' };
  await keycloak.createRealm(realm, { passwordPolicy: 'length(10) and digits(2)' });
  const internal = await keycloak.createClient(realm, { clientId: client.clientId, publicClient: false, secret: client.clientSecret, serviceAccountsEnabled: true, directAccessGrantsEnabled: true, standardFlowEnabled: false });
  await keycloak.grantRealmManagement(realm, internal, ['view-users', 'manage-users']);
  const settings = { serverUrl: keycloak.url, realm, ...client, timeoutMs: 2_000 };
  return {
    store: createKeycloakCredentialStore(settings),
    unreachable: createKeycloakCredentialStore({ ...settings, serverUrl: `http://127.0.0.1:${await freePort()}` }),
    // length(10) and digits(2): one digit is too few.
    refusedPassword: () => 'one digit 1',
    async createUser(username, password) {
      const id = await keycloak.createUser(realm, { username, password });
      return { id, username, email: `${username}@example.com`, enabled: true, requiredActions: [] };
    },
    async tracesOf(user) {
      return (await keycloak.request<unknown[]>('GET', `/${realm}/users/${user.id}/sessions`)).body.length;
    },
    async close() {
      await keycloak.deleteRealm(realm);
    },
  };
});
