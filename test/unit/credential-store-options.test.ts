import { OptionsError, resolveOptions } from '../../src/options';
import type { RealmOptions } from '../../src/options';

const ISSUER = 'https://idp.example/auth/realms/acme';

function resolve(credentialStore: unknown, issuer = ISSUER): unknown {
  const realm = { issuer, credentialStore } as RealmOptions;
  return resolveOptions({ mongodbUri: 'mongodb://127.0.0.1:9/x', realms: { acme: realm } }).realms.get('acme')?.credentialStore;
}

describe('options.realms.<realm>.credentialStore', () => {
  it.each([
    [undefined, { type: 'mongodb' }],
    ['mongodb', { type: 'mongodb' }],
    [
      { type: 'keycloak', clientId: 'password-resources', clientSecret: 's3cret' },
      { type: 'keycloak', serverUrl: 'https://idp.example/auth', realm: 'acme', clientId: 'password-resources', clientSecret: 's3cret', timeoutMs: 5000 },
    ],
    [
      { type: 'keycloak', serverUrl: 'http://10.0.0.5:8080/', realm: 'internal', clientId: 'c', clientSecret: 's', timeoutMs: 1500 },
      { type: 'keycloak', serverUrl: 'http://10.0.0.5:8080', realm: 'internal', clientId: 'c', clientSecret: 's', timeoutMs: 1500 },
    ],
  ])('resolves %j, taking Keycloak\'s server and realm from the issuer by default', (given, expected) => {
    expect(resolve(given)).toEqual(expected);
  });

  it.each([
    ['keycloak', ISSUER, 'options.realms.acme.credentialStore: "keycloak" needs the client it acts as: { type: "keycloak", clientId: "...", clientSecret: "..." } (serverUrl and realm default from the issuer)'],
    ['ldap', ISSUER, 'options.realms.acme.credentialStore: must be "mongodb" or { type: "keycloak", clientId, clientSecret, serverUrl?, realm?, timeoutMs? }, got "ldap"'],
    [{ type: 'keycloak', clientId: 'c' }, ISSUER, "options.realms.acme.credentialStore.clientSecret: must be a non-empty string (the confidential client's secret)"],
    [{ type: 'keycloak', clientId: 'c', clientSecret: 's', secret: 'x' }, ISSUER, 'options.realms.acme.credentialStore: unknown option "secret"'],
    [{ type: 'keycloak', clientId: 'c', clientSecret: 's' }, 'https://login.example/acme', 'options.realms.acme.credentialStore.serverUrl: is required: the issuer "https://login.example/acme" is not Keycloak\'s <server>/realms/<realm>'],
    [{ type: 'keycloak', clientId: 'c', clientSecret: 's', timeoutMs: 10 }, ISSUER, 'options.realms.acme.credentialStore.timeoutMs: must be an integer from 100 to 60000, got 10'],
  ])('refuses %j with a message naming the option', (given, issuer, message) => {
    expect(() => resolve(given, issuer)).toThrow(new OptionsError(message));
  });
});
