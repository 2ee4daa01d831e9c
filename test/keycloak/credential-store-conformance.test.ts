import type { CredentialStore, ExternalUser } from '../../src/domain/credential-store';
import { StoreUnavailableError } from '../../src/domain/store';
import { InvalidPasswordError } from '../../src/errors';
import { freePort } from '../../src/db/mongo-server';
import { createKeycloakCredentialStore } from '../../src/store/keycloak/credential-store';
import { KeycloakAdmin, uniqueRealm } from '../helpers/keycloak';

/** A credential store under test, with a way to make users in it. */
interface CredentialStoreFixture {
  readonly store: CredentialStore;
  /** The same store configured against an address where nothing answers. */
  readonly unreachable: CredentialStore;
  /** The policy the store enforces refuses this password. */
  readonly refusedPassword: string;
  createUser(username: string, password: string): Promise<ExternalUser>;
  /** Sessions or other traces a check left for the user, beyond the store's own failure count. */
  tracesOf(user: ExternalUser): Promise<number>;
  close(): Promise<void>;
}

/** What the account service relies on from a credential store (sidecar mode), for any implementation. */
function describeCredentialStoreConformance(name: string, open: () => Promise<CredentialStoreFixture>): void {
  describe(`CredentialStore conformance: ${name}`, () => {
    let fixture: CredentialStoreFixture;
    beforeAll(async () => {
      fixture = await open();
    });
    afterAll(async () => fixture.close());

    it('finds a user by id with username, email, enabled and required actions, and nobody for an unknown id', async () => {
      const user = await fixture.createUser('finn', 'finn password 12');
      expect(await fixture.store.findUser(user.id)).toEqual({ id: user.id, username: 'finn', email: 'finn@example.com', enabled: true, requiredActions: [] });
      expect(await fixture.store.findUser('00000000-0000-4000-8000-000000000000')).toBeNull();
    });

    it('tells the right password from a wrong one, leaving no trace', async () => {
      const user = await fixture.createUser('vic', 'vic password 34');
      expect(await fixture.store.verify(user, 'vic password 34')).toEqual({ kind: 'valid' });
      expect(await fixture.store.verify(user, 'vic password 35')).toEqual({ kind: 'invalid' });
      expect(await fixture.tracesOf(user)).toBe(0);
    });

    it('sets a new password: the new one validates, the old one no longer does', async () => {
      const user = await fixture.createUser('sam', 'sam password 56');
      await fixture.store.setPassword(user, 'sam new password 78', { temporary: false });
      expect(await fixture.store.verify(user, 'sam new password 78')).toEqual({ kind: 'valid' });
      expect(await fixture.store.verify(user, 'sam password 56')).toEqual({ kind: 'invalid' });
    });

    it("refuses a password its own policy refuses, as InvalidPasswordError, and keeps the old one", async () => {
      const user = await fixture.createUser('pia', 'pia password 90');
      const refused = await fixture.store.setPassword(user, fixture.refusedPassword, { temporary: false }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(InvalidPasswordError);
      expect((refused as InvalidPasswordError).violations.length).toBeGreaterThan(0);
      expect(await fixture.store.verify(user, 'pia password 90')).toEqual({ kind: 'valid' });
    });

    it('marks a temporary password with UPDATE_PASSWORD, and still tells it is right', async () => {
      const user = await fixture.createUser('ted', 'ted password 12');
      await fixture.store.setPassword(user, 'ted temporary 34', { temporary: true });
      expect((await fixture.store.findUser(user.id))?.requiredActions).toEqual(['UPDATE_PASSWORD']);
      expect(await fixture.store.verify(user, 'ted temporary 34')).toEqual({ kind: 'valid' });
    });

    it('throws StoreUnavailableError from every method when the store cannot be reached', async () => {
      const user = await fixture.createUser('una', 'una password 56');
      await expect(fixture.unreachable.findUser(user.id)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(fixture.unreachable.verify(user, 'una password 56')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(fixture.unreachable.setPassword(user, 'una password 78', { temporary: false })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(fixture.unreachable.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(fixture.store.ping()).resolves.toBeUndefined();
    });
  });
}

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
    refusedPassword: 'one digit 1',
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
