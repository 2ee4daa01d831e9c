import pino from 'pino';
import { createPasswordResources } from '../../src/index';
import type { PasswordResources } from '../../src/index';
import { testDatabaseUri } from '../helpers/db';
import { TestIssuer } from '../helpers/issuer';
import { runCli, stopSpawned } from '../helpers/spawn';
import { call } from '../helpers/api';
import { createApp } from '../../src/app';

let issuer: TestIssuer;
let resources: PasswordResources;
let env: Record<string, string>;
const validate = '/realms/alpha/password-resources/validate-password';

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const uri = testDatabaseUri('cli');
  env = { MONGODB_URI: uri, BCRYPT_COST: '10', REALMS: 'alpha', OIDC_ISSUER_BASE_URL: issuer.baseUrl };
  resources = createPasswordResources({ mongodbUri: uri, realms: { alpha: { issuer: issuer.issuerOf('alpha') } }, bcryptCost: 10, logger: pino({ level: 'silent' }) });
  await resources.ready();
});
afterAll(async () => {
  await stopSpawned();
  await resources.close();
  await issuer.stop();
});

async function validates(sub: string, password: string): Promise<boolean> {
  const res = await call(createApp(resources, pino({ level: 'silent' })), 'post', validate, { token: await issuer.signAfterChange(sub), body: { password } });
  expect(res.status).toBe(200);
  return (res.body as { valid: boolean }).valid;
}

describe('password-resources create-user', () => {
  it('creates a user whose id is the given subject, reading the password from stdin', async () => {
    const result = await runCli(['create-user', '--realm', 'alpha', '--username', 'Carol', '--id', 'sub-carol', '--password-stdin'], env, 'carol has a long password\n');
    expect(result).toEqual({ code: 0, stdout: 'created user "carol" with id sub-carol in realm "alpha"\n', stderr: '' });
    await expect(validates('sub-carol', 'carol has a long password')).resolves.toBe(true);
  });

  it('prints the user as JSON with --json, never the password or a hash', async () => {
    const result = await runCli(['create-user', '--realm', 'alpha', '--username', 'dave', '--email', 'Dave@Example.com', '--password', 'dave has a password', '--json'], env);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ realm: 'alpha', username: 'dave', email: 'dave@example.com', enabled: true, requiredActions: [] });
    expect(result.stdout).not.toMatch(/password|\$2b\$/);
  });

  it('refuses a duplicate username with one line and exit 1', async () => {
    await runCli(['create-user', '--realm', 'alpha', '--username', 'erin', '--password', 'erin has a password'], env);
    const again = await runCli(['create-user', '--realm', 'alpha', '--username', 'ERIN', '--password', 'erin has a password'], env);
    expect(again).toEqual({ code: 1, stdout: '', stderr: 'password-resources: A user with this username already exists in realm "alpha".\n' });
  });

  it('refuses a password the policy refuses, naming the rule', async () => {
    const result = await runCli(['create-user', '--realm', 'alpha', '--username', 'frank', '--password', 'k7#q2'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('password-resources: The new password does not meet the password policy (1 rule broken). The password must have at least 8 characters.\n');
  });

  it.each([
    [['create-user', '--realm', 'gamma', '--username', 'x'], {}, 2, 'password-resources: --realm: "gamma" is not in REALMS (alpha)\n'],
    [['create-user', '--realm', 'alpha', '--username', 'x'], { MONGODB_URI: '' }, 2, 'password-resources: MONGODB_URI: is required for this command (the database to change)\n'],
    [['create-user', '--realm', 'alpha', '--username', 'x', '--password', 'a', '--password-stdin'], {}, 2, 'password-resources: give exactly one of --password or --password-stdin\n'],
    [['create-user', '--realm', 'alpha', '--username', 'x'], { BCRYPT_COST: '99' }, 2, 'password-resources: BCRYPT_COST: must be an integer from 10 to 15, got "99"\n'],
  ])('%j with %j exits %i with one line', async (args, overrides, code, stderr) => {
    const result = await runCli(args, { ...env, ...overrides });
    expect(result).toEqual({ code, stdout: '', stderr });
  });

  it('exits non-zero with a usage message for a missing option', async () => {
    const result = await runCli(['create-user', '--realm', 'alpha'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("required option '--username <username>' not specified");
  });
});

describe('password-resources set-password', () => {
  it('sets the password from stdin; the old one stops validating', async () => {
    await runCli(['create-user', '--realm', 'alpha', '--username', 'grace', '--id', 'sub-grace', '--password', 'grace old password'], env);
    const result = await runCli(['set-password', '--realm', 'alpha', '--username', 'Grace', '--password-stdin'], env, 'grace new password\n');
    expect(result).toEqual({ code: 0, stdout: 'password of "grace" in realm "alpha" set\n', stderr: '' });
    await expect(validates('sub-grace', 'grace new password')).resolves.toBe(true);
    await expect(validates('sub-grace', 'grace old password')).resolves.toBe(false);
  });

  it('marks the password temporary with --temporary (UPDATE_PASSWORD)', async () => {
    await runCli(['create-user', '--realm', 'alpha', '--username', 'heidi', '--password', 'heidi old password'], env);
    const result = await runCli(['set-password', '--realm', 'alpha', '--username', 'heidi', '--new-password', 'heidi temporary one', '--temporary'], env);
    expect(result.stdout).toBe('password of "heidi" in realm "alpha" set (temporary)\n');
    const user = await resources.accounts.findByUsername('alpha', 'heidi');
    expect(user?.requiredActions).toEqual(['UPDATE_PASSWORD']);
    expect(user?.passwordChangedAt).toBeInstanceOf(Date);
  });

  it('refuses a password over the hard cap of 1024 characters with the maxLength rule, keeping the old one', async () => {
    await runCli(['create-user', '--realm', 'alpha', '--username', 'ida', '--id', 'sub-ida', '--password', 'ida old password'], env);
    const result = await runCli(['set-password', '--realm', 'alpha', '--username', 'ida', '--password-stdin'], { ...env, PASSWORD_POLICY: 'length(8)' }, `${'i'.repeat(1025)}\n`);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'password-resources: The new password does not meet the password policy (1 rule broken). The password must have at most 1024 characters.\n',
    });
    await expect(validates('sub-ida', 'ida old password')).resolves.toBe(true);
  });

  it('says which user it could not find', async () => {
    const result = await runCli(['set-password', '--realm', 'alpha', '--username', 'nobody', '--new-password', 'whatever it is'], env);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'password-resources: no user "nobody" in realm "alpha"\n' });
  });

  it('reports an unreachable database in one line', async () => {
    const result = await runCli(['set-password', '--realm', 'alpha', '--username', 'x', '--new-password', 'whatever it is'], {
      ...env,
      MONGODB_URI: 'mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=500',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^password-resources: cannot reach MongoDB at MONGODB_URI: .+\n$/);
  });
});

describe('password-resources set-password --generate', () => {
  it('prints a generated password once, which then validates', async () => {
    await runCli(['create-user', '--realm', 'alpha', '--username', 'ivan', '--id', 'sub-ivan', '--password', 'ivan old password'], env);
    const result = await runCli(['set-password', '--realm', 'alpha', '--username', 'ivan', '--generate', '--temporary'], env);
    expect(result.code).toBe(0);
    const generated = result.stdout.trimEnd();
    expect(generated).toMatch(/^\S{20}$/);
    await expect(validates('sub-ivan', generated)).resolves.toBe(true);
    const json = await runCli(['set-password', '--realm', 'alpha', '--username', 'ivan', '--generate', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual({ id: 'sub-ivan', realm: 'alpha', username: 'ivan', temporary: false, password: expect.stringMatching(/^\S{20}$/) as string });
  });

  it('refuses --generate with a given password', async () => {
    const result = await runCli(['set-password', '--realm', 'alpha', '--username', 'ivan', '--generate', '--new-password', 'x'], env);
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'password-resources: give exactly one of --new-password, --password-stdin or --generate\n' });
  });
});

describe('password-resources get-users, enable, disable, unlock', () => {
  beforeAll(async () => {
    for (const name of ['list-anna', 'list-bert', 'list-cleo']) {
      await runCli(['create-user', '--realm', 'alpha', '--username', name, '--id', `sub-${name}`, '--email', `${name}@example.com`, '--password', `${name} password`], env);
    }
  });

  it('lists users, one tab-separated line each, or as JSON, never a credential', async () => {
    const listed = await runCli(['get-users', '--realm', 'alpha', '--search', 'list-'], env);
    expect(listed).toEqual({
      code: 0,
      stdout: 'sub-list-anna\tlist-anna\tlist-anna@example.com\tenabled\t-\nsub-list-bert\tlist-bert\tlist-bert@example.com\tenabled\t-\nsub-list-cleo\tlist-cleo\tlist-cleo@example.com\tenabled\t-\n',
      stderr: '',
    });
    const json = await runCli(['get-users', '--realm', 'alpha', '--username', 'LIST-BERT', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id: 'sub-list-bert', username: 'list-bert', enabled: true })]);
    expect(json.stdout).not.toMatch(/\$2b\$|hash|credential/);
    const paged = await runCli(['get-users', '--realm', 'alpha', '--search', 'list-', '--first', '1', '--max', '1', '--json'], env);
    expect((JSON.parse(paged.stdout) as { username: string }[]).map((u) => u.username)).toEqual(['list-bert']);
    expect(await runCli(['get-users', '--realm', 'alpha', '--max', 'lots'], env)).toEqual({ code: 2, stdout: '', stderr: 'password-resources: --max: must be an integer from 0 to 10000, got "lots"\n' });
  });

  it('disables a user (who stops validating) and enables them again', async () => {
    expect(await runCli(['disable', '--realm', 'alpha', '--username', 'list-anna'], env)).toEqual({ code: 0, stdout: 'user "list-anna" in realm "alpha" disabled\n', stderr: '' });
    const refused = await call(createApp(resources, pino({ level: 'silent' })), 'post', validate, { token: await issuer.sign({ sub: 'sub-list-anna' }), body: { password: 'list-anna password' } });
    expect(refused.status).toBe(401);
    const enabled = await runCli(['enable', '--realm', 'alpha', '--username', 'list-anna', '--json'], env);
    expect(JSON.parse(enabled.stdout)).toMatchObject({ id: 'sub-list-anna', enabled: true });
    await expect(validates('sub-list-anna', 'list-anna password')).resolves.toBe(true);
  });

  it('unlocks a locked-out user', async () => {
    const user = await resources.accounts.findByUsername('alpha', 'list-cleo');
    if (!user) throw new Error('list-cleo missing');
    // Wrong passwords in quick succession lock with the default settings.
    const app = createApp(resources, pino({ level: 'silent' }));
    for (let i = 0; i < 5; i++) await call(app, 'post', validate, { token: await issuer.signAfterChange('sub-list-cleo'), body: { password: 'not the password' } });
    const locked = await call(createApp(resources, pino({ level: 'silent' })), 'post', validate, { token: await issuer.signAfterChange('sub-list-cleo'), body: { password: 'list-cleo password' } });
    expect(locked.status).toBe(429);
    const result = await runCli(['unlock', '--realm', 'alpha', '--username', 'list-cleo', '--json'], env);
    expect(JSON.parse(result.stdout)).toEqual({ id: 'sub-list-cleo', username: 'list-cleo', numFailures: 0, disabled: false });
    await expect(validates('sub-list-cleo', 'list-cleo password')).resolves.toBe(true);
    expect(await runCli(['unlock', '--realm', 'alpha', '--username', 'nobody'], env)).toEqual({ code: 1, stdout: '', stderr: 'password-resources: no user "nobody" in realm "alpha"\n' });
  });
});
