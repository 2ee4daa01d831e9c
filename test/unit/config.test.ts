import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/env';

const base = { REALMS: 'alpha', OIDC_ISSUER_BASE_URL: 'https://idp.example' };
const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('resolves Keycloak-style issuers and the documented defaults', () => {
    const config = loadConfig(base);
    expect(config).toEqual({
      port: 8080,
      mongodbUri: undefined,
      logLevel: 'info',
      resources: {
        hashAlgorithm: 'argon2',
        argon2: { memory: 7168, parallelism: 1 },
        bcryptCost: 12,
        hashQueue: { concurrency: availableParallelism(), budgetMs: 15_000, intervalMs: 1_000 },
        passwordPolicy: 'length(8) and maxLength(128) and notCompromised and notUsername and notEmail',
        realms: { alpha: { issuer: 'https://idp.example/realms/alpha', passwordPolicy: 'length(8) and maxLength(128) and notCompromised and notUsername and notEmail' } },
      },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes every variable of the design', () => {
    const config = loadConfig({
      ...base,
      REALMS: 'alpha, beta',
      PORT: '9090',
      MONGODB_URI: 'mongodb://db.example/pr',
      OIDC_AUDIENCE: 'password-resources',
      PASSWORD_POLICY: 'length(12)',
      BCRYPT_COST: '11',
      HASH_ALGORITHM: 'bcrypt',
      ARGON2_MEMORY: '19456',
      ARGON2_PARALLELISM: '2',
      LOG_LEVEL: 'warn',
      HASH_CONCURRENCY: '3',
      HASH_QUEUE_BUDGET_MS: '0',
      HASH_QUEUE_INTERVAL_MS: '250',
    });
    expect(config.resources.hashQueue).toEqual({ concurrency: 3, budgetMs: 0, intervalMs: 250 });
    expect(config.port).toBe(9090);
    expect(config.mongodbUri).toBe('mongodb://db.example/pr');
    expect(config.logLevel).toBe('warn');
    expect(config.resources.bcryptCost).toBe(11);
    expect(config.resources.hashAlgorithm).toBe('bcrypt');
    expect(config.resources.argon2).toEqual({ memory: 19456, parallelism: 2 });
    expect(config.resources.realms).toEqual({
      alpha: { issuer: 'https://idp.example/realms/alpha', audience: 'password-resources', passwordPolicy: 'length(12)' },
      beta: { issuer: 'https://idp.example/realms/beta', audience: 'password-resources', passwordPolicy: 'length(12)' },
    });
  });

  it('reads per-realm settings from a YAML or JSON CONFIG_FILE over the environment', () => {
    const yaml = file('realms.yaml', [
      'realms:',
      '  alpha:',
      '    issuer: https://other.example/auth/realms/alpha',
      '    jwksUri: https://other.example/keys',
      '    audience: account-api',
      '    passwordPolicy: length(14)',
    ].join('\n'));
    const json = file('realms.json', JSON.stringify({ realms: { alpha: { audience: 'from-json' } } }));
    expect(loadConfig({ ...base, CONFIG_FILE: yaml, OIDC_AUDIENCE: 'env' }).resources.realms).toEqual({
      alpha: { issuer: 'https://other.example/auth/realms/alpha', jwksUri: 'https://other.example/keys', audience: 'account-api', passwordPolicy: 'length(14)' },
    });
    expect(loadConfig({ ...base, CONFIG_FILE: json }).resources.realms.alpha?.audience).toBe('from-json');
  });

  it('reads the token requirements of a realm from CONFIG_FILE', () => {
    const yaml = file('requirements.yaml', [
      'realms:',
      '  alpha:',
      '    revokeTokensOnPasswordChange: false',
      '    allowedClients: [account-console]',
      '    requiredScopes: [password]',
      '    maxAuthAge: 300',
    ].join('\n'));
    expect(loadConfig({ ...base, CONFIG_FILE: yaml }).resources.realms.alpha).toMatchObject({
      revokeTokensOnPasswordChange: false,
      allowedClients: ['account-console'],
      requiredScopes: ['password'],
      maxAuthAge: 300,
    });
  });

  it('reads event retention and trusted proxies from the top of CONFIG_FILE', () => {
    const yaml = file('service.yaml', 'eventRetentionDays: 30\ntrustedProxies: [loopback, 10.0.0.0/8]\nrealms: {}');
    expect(loadConfig({ ...base, CONFIG_FILE: yaml }).resources).toMatchObject({ eventRetentionDays: 30, trustedProxies: ['loopback', '10.0.0.0/8'] });
    expect(() => loadConfig({ ...base, CONFIG_FILE: file('bad-retention.yaml', 'eventRetentionDays: soon') })).toThrow(
      'CONFIG_FILE: eventRetentionDays must be a positive number of days, got "soon"',
    );
  });

  it("passes a realm's credentialStore from CONFIG_FILE to the router's options (sidecar mode)", () => {
    const path = file('sidecar.yaml', 'realms:\n  alpha:\n    credentialStore: { type: keycloak, clientId: password-resources, clientSecret: s3cret }\n');
    expect(loadConfig({ ...base, CONFIG_FILE: path }).resources.realms.alpha?.credentialStore).toEqual({ type: 'keycloak', clientId: 'password-resources', clientSecret: 's3cret' });
  });

  it("passes a realm's argon2 settings from CONFIG_FILE to the router's options", () => {
    const path = file('argon2.yaml', 'realms:\n  alpha:\n    passwordPolicy: hashAlgorithm(argon2) and hashIterations(2)\n    argon2: { memory: 19456, parallelism: 1 }\n');
    expect(loadConfig({ ...base, CONFIG_FILE: path }).resources.realms.alpha).toMatchObject({ passwordPolicy: 'hashAlgorithm(argon2) and hashIterations(2)', argon2: { memory: 19456, parallelism: 1 } });
  });

  it('lets the CLI run without REALMS', () => {
    expect(loadConfig({}, { requireRealms: false }).resources.realms).toEqual({});
  });

  it.each([
    [{ REALMS: undefined }, 'REALMS: is required: a comma-separated list of the realm names to serve, e.g. REALMS=alpha,beta'],
    [{ REALMS: 'al pha' }, 'REALMS: "al pha" is not a realm name (1-64 letters, digits, ".", "_" or "-")'],
    [{ OIDC_ISSUER_BASE_URL: undefined }, 'OIDC_ISSUER_BASE_URL: is required unless CONFIG_FILE gives realms.alpha.issuer'],
    [{ OIDC_ISSUER_BASE_URL: 'idp.example' }, 'OIDC_ISSUER_BASE_URL: must be an absolute http(s) URL, got "idp.example"'],
    [{ OIDC_ISSUER_BASE_URL: 'ftp://idp.example' }, 'OIDC_ISSUER_BASE_URL: must be an http(s) URL, got "ftp://idp.example"'],
    [{ PORT: '80a' }, 'PORT: must be an integer from 0 to 65535, got "80a"'],
    [{ PORT: '70000' }, 'PORT: must be an integer from 0 to 65535, got "70000"'],
    [{ BCRYPT_COST: '8' }, 'BCRYPT_COST: must be an integer from 10 to 15, got "8"'],
    [{ HASH_ALGORITHM: 'scrypt' }, 'HASH_ALGORITHM: must be one of argon2, bcrypt, pbkdf2-sha512, pbkdf2-sha256, pbkdf2, got "scrypt"'],
    [{ ARGON2_MEMORY: '4096' }, 'ARGON2_MEMORY: must be an integer from 7168 to 1048576, got "4096"'],
    [{ ARGON2_PARALLELISM: '0' }, 'ARGON2_PARALLELISM: must be an integer from 1 to 16, got "0"'],
    [{ PASSWORD_POLICY: 'hashIterations(200)' }, "PASSWORD_POLICY: hashIterations(200): must be an integer from 1 to 100 for argon2 (passes over memory; Keycloak ignores more than 100), got 200"],
    [{ PASSWORD_POLICY: 'hashAlgorithm(bcrypt) and hashIterations(27500)' }, 'PASSWORD_POLICY: hashIterations(27500): must be an integer from 10 to 15 for bcrypt (the cost), got 27500'],
    [{ HASH_ALGORITHM: 'pbkdf2-sha256', PASSWORD_POLICY: 'hashIterations(1000)' }, 'PASSWORD_POLICY: hashIterations(1000): must be an integer from 10000 to 10000000 for pbkdf2-sha256, got 1000'],
    [{ HASH_CONCURRENCY: '0' }, 'HASH_CONCURRENCY: must be an integer from 1 to 1024, got "0"'],
    [{ HASH_QUEUE_BUDGET_MS: 'long' }, 'HASH_QUEUE_BUDGET_MS: must be an integer from 0 to 600000, got "long"'],
    [{ HASH_QUEUE_INTERVAL_MS: '5' }, 'HASH_QUEUE_INTERVAL_MS: must be an integer from 10 to 600000, got "5"'],
    [
      { HASH_MAX_WAITING: '4' },
      'HASH_MAX_WAITING: is no longer read: hashes are admitted by time, not by count; set HASH_QUEUE_BUDGET_MS (the most time queued work may need) instead',
    ],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ PASSWORD_POLICY: 'lenght(12)' }, 'PASSWORD_POLICY: unknown policy "lenght" (did you mean "length"?); known policies: length, maxLength, digits, lowerCase, upperCase, passwordHistory, passwordAge, forceExpiredPasswordChange, minStrength, specialChars, notUsername, notContainsUsername, notEmail, notCompromised, regexPattern, passwordBlacklist, hashAlgorithm, hashIterations (got "lenght(12)")'],
    [{ CONFIG_FILE: '/nonexistent/realms.yaml' }, 'CONFIG_FILE: cannot read "/nonexistent/realms.yaml": ENOENT'],
  ])('stops on %j with one line naming the setting', (overrides, message) => {
    expect(() => loadConfig({ ...base, ...overrides })).toThrow(new ConfigError(message));
  });

  it.each([
    ['not: [valid', /CONFIG_FILE: ".*" is neither JSON nor YAML/],
    ['realm:\n  alpha: {}', /CONFIG_FILE: unknown top-level key "realm" \(did you mean "realms"\?\); expected "realms", "eventRetentionDays" or "trustedProxies"/],
    ['realms:\n  alpha:\n    isuer: https://x.example', /CONFIG_FILE: realms.alpha: unknown setting "isuer" \(did you mean "issuer"\?\)/],
    ['realms:\n  alpha:\n    audience: 3', /CONFIG_FILE: realms.alpha.audience: must be a non-empty string, got 3/],
    ['realms:\n  gamma: {}', /CONFIG_FILE: realm "gamma" is configured but not in REALMS \(alpha\)/],
    ['realms:\n  alpha:\n    jwksUri: keys', /CONFIG_FILE: realms.alpha.jwksUri: must be an absolute http\(s\) URL, got "keys"/],
    ['realms:\n  alpha:\n    passwordPolicy: length(x)', /CONFIG_FILE: realms.alpha.passwordPolicy: length\(x\): the parameter must be an integer/],
    ['realms:\n  alpha:\n    revokeTokensOnPasswordChange: "no"', /CONFIG_FILE: realms.alpha.revokeTokensOnPasswordChange: must be true or false, got "no"/],
    ['realms:\n  alpha:\n    allowedClients: account-console', /CONFIG_FILE: realms.alpha.allowedClients: must be a list of names, got "account-console"/],
    ['realms:\n  alpha:\n    argon2: { memory: 1024 }', /CONFIG_FILE: realms.alpha.argon2.memory: must be an integer from 7168 to 1048576 \(KiB\), got 1024/],
    ['realms:\n  alpha:\n    argon2: { iterations: 3 }', /CONFIG_FILE: realms.alpha.argon2: unknown option "iterations" \(argon2's passes are the policy's hashIterations\)/],
    ['realms:\n  alpha:\n    passwordPolicy: hashIterations(101)', /CONFIG_FILE: realms.alpha.passwordPolicy: hashIterations\(101\): must be an integer from 1 to 100 for argon2/],
    ['realms:\n  alpha:\n    maxAuthAge: 0', /CONFIG_FILE: realms.alpha.maxAuthAge: must be a positive integer \(seconds\), got 0/],
    ['realms:\n  alpha:\n    credentialStore: [keycloak]', /CONFIG_FILE: realms.alpha.credentialStore: must be mongodb or \{ type: keycloak, clientId, clientSecret, serverUrl, realm \}, got \["keycloak"\]/],
  ])('refuses a CONFIG_FILE holding %j with a message that teaches', (text, message) => {
    expect(() => loadConfig({ ...base, CONFIG_FILE: file(`bad-${Math.random()}.yaml`, text) })).toThrow(message);
  });
});
