import { OptionsError, resolveOptions } from '../../src/options';
import type { RealmOptions } from '../../src/options';
import { ConfigError, loadConfig } from '../../src/config/env';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function resolve(realm: RealmOptions, name = 'demo') {
  const resolved = resolveOptions({ mongodbUri: 'mongodb://127.0.0.1:9/x', realms: { [name]: realm } }).realms.get(name);
  if (!resolved) throw new Error('not resolved');
  return { adminRealm: resolved.adminRealm, managementClient: resolved.managementClient };
}

describe('the admin realm of a realm', () => {
  it.each([
    [
      'Keycloak-shaped issuer: master, beside the realm',
      { issuer: 'https://idp.example/realms/demo' },
      {
        adminRealm: { name: 'master', issuer: 'https://idp.example/realms/master', jwksUri: 'https://idp.example/realms/master/protocol/openid-connect/certs', roleClient: 'demo-realm' },
        managementClient: 'realm-management',
      },
    ],
    [
      "keys at an internal address: master's keys there too",
      { issuer: 'https://idp.example/auth/realms/demo', jwksUri: 'http://keycloak:8080/auth/realms/demo/protocol/openid-connect/certs' },
      {
        adminRealm: { name: 'master', issuer: 'https://idp.example/auth/realms/master', jwksUri: 'http://keycloak:8080/auth/realms/master/protocol/openid-connect/certs', roleClient: 'demo-realm' },
        managementClient: 'realm-management',
      },
    ],
    [
      'another admin realm, named',
      { issuer: 'https://idp.example/realms/demo', adminRealm: 'ops' },
      {
        adminRealm: { name: 'ops', issuer: 'https://idp.example/realms/ops', jwksUri: 'https://idp.example/realms/ops/protocol/openid-connect/certs', roleClient: 'demo-realm' },
        managementClient: 'realm-management',
      },
    ],
    ['turned off', { issuer: 'https://idp.example/realms/demo', adminRealm: false }, { adminRealm: undefined, managementClient: 'realm-management' }],
    ['an issuer of another shape (Auth0): off', { issuer: 'https://tenant.eu.auth0.com/' }, { adminRealm: undefined, managementClient: 'realm-management' }],
  ] as const)('%s', (_case, realm, expected) => {
    expect(resolve(realm)).toEqual(expected);
  });

  it("is the realm itself for Keycloak's master, whose own admins' roles are in master-realm", () => {
    expect(resolve({ issuer: 'https://idp.example/realms/master' }, 'master')).toEqual({ adminRealm: undefined, managementClient: 'master-realm' });
  });

  it.each([
    [
      { issuer: 'https://tenant.eu.auth0.com/', adminRealm: 'master' },
      'options.realms.demo.adminRealm: needs an issuer of Keycloak\'s shape <server>/realms/<name> to find realm "master" beside it, got "https://tenant.eu.auth0.com/"; set it to false to turn it off',
    ],
    [{ issuer: 'https://idp.example/realms/demo', adminRealm: 'has space' }, 'options.realms.demo.adminRealm: must be a realm name or false, got "has space"'],
  ] as const)('refuses %j with a message that teaches', (realm, message) => {
    expect(() => resolve(realm)).toThrow(new OptionsError(message));
  });

  describe('from CONFIG_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'admin-realm-test-'));
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const env = (text: string) => {
      const path = join(dir, `${Math.random()}.yaml`);
      writeFileSync(path, text);
      return { REALMS: 'demo', OIDC_ISSUER_BASE_URL: 'https://idp.example', CONFIG_FILE: path };
    };

    it('is passed to the router, as a name or false', () => {
      expect(loadConfig(env('realms:\n  demo:\n    adminRealm: false\n')).resources.realms.demo?.adminRealm).toBe(false);
      expect(loadConfig(env('realms:\n  demo:\n    adminRealm: ops\n')).resources.realms.demo?.adminRealm).toBe('ops');
    });

    it('refuses anything else', () => {
      expect(() => loadConfig(env('realms:\n  demo:\n    adminRealm: true\n'))).toThrow(new ConfigError('CONFIG_FILE: realms.demo.adminRealm: must be a realm name (e.g. master) or false, got true'));
    });
  });
});
