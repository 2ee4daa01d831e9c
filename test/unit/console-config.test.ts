import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/env';
import { resolveOptions } from '../../src/options';

/** The console's settings from the environment and CONFIG_FILE, as the standalone server reads them. */
const base = { REALMS: 'alpha,beta', OIDC_ISSUER_BASE_URL: 'https://idp.example' };
const dir = mkdtempSync(join(tmpdir(), 'console-config-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
function file(text: string): string {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}
const consoles = (env: NodeJS.ProcessEnv): Record<string, unknown> =>
  Object.fromEntries(Object.entries(loadConfig(env).resources.realms).map(([name, realm]) => [name, realm.console]));

describe('console settings', () => {
  it('gives no realm a console by default', () => {
    expect(consoles(base)).toEqual({ alpha: undefined, beta: undefined });
  });

  it('gives every realm a console with CONSOLE_CLIENT_ID', () => {
    expect(consoles({ ...base, CONSOLE_CLIENT_ID: 'password-resources-console' })).toEqual({
      alpha: { clientId: 'password-resources-console' },
      beta: { clientId: 'password-resources-console' },
    });
  });

  it('takes a realm\'s console from CONFIG_FILE, over CONSOLE_CLIENT_ID where both say', () => {
    const config = file('realms:\n  alpha:\n    console: { issuer: "https://idp.example/realms/master", scope: "openid email" }\n  beta:\n    console: { clientId: beta-console }\n');
    expect(consoles({ ...base, CONSOLE_CLIENT_ID: 'console', CONFIG_FILE: config })).toEqual({
      alpha: { clientId: 'console', issuer: 'https://idp.example/realms/master', scope: 'openid email' },
      beta: { clientId: 'beta-console' },
    });
  });

  it('resolves them as the router serves them: issuer, scope, where the rights are', () => {
    const config = file('realms:\n  alpha:\n    console: { issuer: "https://idp.example/realms/master" }\n');
    const resolved = resolveOptions({ ...loadConfig({ ...base, CONSOLE_CLIENT_ID: 'console', CONFIG_FILE: config }).resources, mongodbUri: 'mongodb://127.0.0.1:1/unused' });
    expect(resolved.realms.get('alpha')?.console).toEqual({ clientId: 'console', issuer: 'https://idp.example/realms/master', scope: 'openid', adminRealm: 'master', roleClient: 'alpha-realm' });
    expect(resolved.realms.get('beta')?.console).toEqual({ clientId: 'console', issuer: 'https://idp.example/realms/beta', scope: 'openid', adminRealm: undefined, roleClient: 'realm-management' });
  });

  it.each<[NodeJS.ProcessEnv, string]>([
    [{ CONSOLE_CLIENT_ID: 'two words' }, 'CONSOLE_CLIENT_ID: must be a client id without spaces, got "two words"'],
    [{ CONFIG_FILE: 'realms:\n  alpha:\n    console: password-resources-console\n' }, 'CONFIG_FILE: realms.alpha.console: must be an object of the admin console (clientId, issuer, scope)'],
  ])('stops start-up with one line naming the setting: %j', (env, message) => {
    const withFile = env.CONFIG_FILE === undefined ? env : { ...env, CONFIG_FILE: file(env.CONFIG_FILE) };
    expect(() => loadConfig({ ...base, ...withFile })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...withFile })).toThrow(message);
  });
});
