import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import pino from 'pino';
import { createPasswordResources } from '../../src/index';
import { call, expectError } from '../helpers/api';
import { createPasswordHasher } from '../../src/domain/hashing';
import type { PasswordHasher } from '../../src/domain/hashing';
import { countingHasher, RELAXED_BRUTE_FORCE, startTestService, TEST_BCRYPT_COST } from '../helpers/setup';
import type { Credential } from '../../src/domain/store';
import type { HashCounts } from '../helpers/setup';
import type { TestService } from '../helpers/setup';
import { TestIssuer } from '../helpers/issuer';

const PATH = '/realms/alpha/password-resources/login-check';
const LOCKING = '/realms/beta/password-resources/login-check';
let issuer: TestIssuer;
/** startTestService counts only the hasher it makes; this one is ours. */
const counts: HashCounts = { verify: 0, hash: 0 };
let service: TestService;
/** A login server's client-credentials token: no session, the role as a client role (Keycloak's layout). */
let loginServer: string;
let alice: { id: string; token: string };
const logLines: string[] = [];
/** The scheme and cost of each credential a password was checked against. */
const verified: string[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  // Realm beta locks at the third wrong password, as Keycloak's detector would with failureFactor 3.
  service = await startTestService('login-check', {
    realms: {
      alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE },
      beta: { issuer: issuer.issuerOf('beta'), bruteForce: { ...RELAXED_BRUTE_FORCE, failureFactor: 3 }, loginCheckRole: 'check-passwords' },
    },
    hasher: recording(countingHasher(createPasswordHasher(), counts)),
    logger: pino({ level: 'info' }, new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    })),
  }, issuer);
  alice = await service.createUser('alice', 'correct horse battery staple');
  await service.resources.accounts.createUser({ realm: 'alpha', username: 'alice.mail', email: 'alice@example.com', password: 'alice mail password' });
  loginServer = await issuer.sign({ sub: 'service-account-keycloak', azp: 'keycloak-login', client_id: 'keycloak-login', resource_access: { 'keycloak-login': { roles: ['login-check'] } } });
});
afterAll(async () => {
  await service.close();
  await issuer.stop();
});

/** What a check of this credential costs: its scheme and parameters (`$argon2id$v=19$m=7168,t=5,p=1`, `$2b$10`). */
function workOf(credential: Credential): string {
  return credential.hash.split('$').slice(0, credential.algorithm === 'argon2' ? 4 : 3).join('$');
}

function recording(inner: PasswordHasher): PasswordHasher {
  return {
    hash: (password, scheme) => inner.hash(password, scheme),
    verify: (password, credential) => {
      verified.push(workOf(credential));
      return inner.verify(password, credential);
    },
    needsRehash: (credential, scheme) => inner.needsRehash(credential, scheme),
  };
}

async function eventsOf(userId: string): Promise<{ type: string; error?: string; clientId?: string }[]> {
  const connection = await mongoose.createConnection(service.uri).asPromise();
  try {
    return await connection.collection<{ type: string; error?: string; clientId?: string }>('events').find({ userId }, { projection: { _id: 0 } }).sort({ time: 1, _id: 1 }).toArray();
  } finally {
    await connection.close();
  }
}

describe('login-check', () => {
  it('answers the user and their required actions for the right password, by username', async () => {
    const res = await call(service.app, 'post', PATH, { token: loginServer, body: { username: 'Alice', password: 'correct horse battery staple' } });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ valid: true, user: { id: alice.id, username: 'alice', enabled: true }, requiredActions: [] });
    expect(Object.keys(res.body as object).sort()).toEqual(['requiredActions', 'user', 'valid']);
  });

  it('finds the user by id, and by email', async () => {
    const byId = await call(service.app, 'post', PATH, { token: loginServer, body: { id: alice.id, password: 'correct horse battery staple' } });
    expect(byId.body).toMatchObject({ valid: true, user: { username: 'alice' } });
    const byEmail = await call(service.app, 'post', PATH, { token: loginServer, body: { username: 'ALICE@example.com', password: 'alice mail password' } });
    expect(byEmail.body).toMatchObject({ valid: true, user: { username: 'alice.mail', email: 'alice@example.com' } });
  });

  it('answers an unknown user, a disabled one and a wrong password alike, each after one hash', async () => {
    const bob = await service.resources.accounts.createUser({ realm: 'alpha', username: 'bob', password: 'bob password here', enabled: false });
    const cases = [
      { username: 'alice', password: 'not the password' },
      { username: 'nobody', password: 'not the password' },
      { id: 'no-such-id', password: 'not the password' },
      { username: bob.username, password: 'bob password here' },
    ];
    for (const body of cases) {
      const before = counts.verify;
      const res = await call(service.app, 'post', PATH, { token: loginServer, body });
      expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 200, body: { valid: false } });
      expect(counts.verify - before).toBe(1);
    }
  });

  it("spends on an unknown user what it spends on a wrong password: one hash in the realm's scheme", async () => {
    await service.resources.accounts.createUser({ realm: 'alpha', username: 'carol', password: 'carol password here' });
    const costOf = async (username: string): Promise<string[]> => {
      verified.length = 0;
      await call(service.app, 'post', PATH, { token: loginServer, body: { username, password: 'a wrong guess' } });
      return [...verified];
    };
    // Timing on a shared CI machine is noise; the work done is what decides the time, so compare the work.
    expect(await costOf('nobody-at-all')).toEqual(['$argon2id$v=19$m=7168,t=5,p=1']);
    expect(await costOf('carol')).toEqual(['$argon2id$v=19$m=7168,t=5,p=1']);
  });

  it('records LOGIN and LOGIN_ERROR with the login server as the client', async () => {
    const dora = await service.resources.accounts.createUser({ realm: 'alpha', username: 'dora', password: 'dora password here' });
    await call(service.app, 'post', PATH, { token: loginServer, body: { username: 'dora', password: 'wrong' } });
    await call(service.app, 'post', PATH, { token: loginServer, body: { username: 'dora', password: 'dora password here' } });
    expect(await eventsOf(dora.id)).toEqual([
      expect.objectContaining({ type: 'LOGIN_ERROR', error: 'invalid_user_credentials', clientId: 'keycloak-login' }),
      expect.objectContaining({ type: 'LOGIN', clientId: 'keycloak-login' }),
    ]);
  });

  it('asks for a new password when it is temporary', async () => {
    await service.resources.accounts.createUser({ realm: 'alpha', username: 'erin', password: 'erin temporary one', temporary: true });
    const res = await call(service.app, 'post', PATH, { token: loginServer, body: { username: 'erin', password: 'erin temporary one' } });
    expect(res.body).toMatchObject({ valid: true, requiredActions: ['UPDATE_PASSWORD'], user: { requiredActions: ['UPDATE_PASSWORD'] } });
  });

  it('counts wrong passwords toward the lockout that validate-password shares, and refuses with 429 before any hash', async () => {
    const token = await service.issuer.sign({ sub: 'sa', azp: 'auth0', realm_access: { roles: ['check-passwords'] } }, { realm: 'beta' });
    const frank = await service.resources.accounts.createUser({ realm: 'beta', username: 'frank', password: 'frank password here' });
    for (let i = 0; i < 3; i++) {
      const res = await call(service.app, 'post', LOCKING, { token, body: { username: 'frank', password: `guess ${i}` } });
      expect(res.body).toEqual({ valid: false });
    }
    const before = counts.verify;
    expectError(await call(service.app, 'post', LOCKING, { token, body: { username: 'frank', password: 'frank password here' } }), 429, 'too_many_failures');
    expect(counts.verify).toBe(before);
    const userToken = await service.issuer.sign({ sub: frank.id }, { realm: 'beta' });
    expectError(await call(service.app, 'post', '/realms/beta/password-resources/validate-password', { token: userToken, body: { password: 'frank password here' } }), 429, 'too_many_failures');
  });
});

describe('login-check, who may call', () => {
  it('refuses a user\'s token with 403, even one holding the role', async () => {
    const token = await service.issuer.sign({ sub: alice.id, sid: 'a-session', resource_access: { spa: { roles: ['login-check'] } } });
    expectError(await call(service.app, 'post', PATH, { token, body: { username: 'alice', password: 'x' } }), 403, 'insufficient_scope', 'error');
    expectError(await call(service.app, 'post', PATH, { token: alice.token, body: { username: 'alice', password: 'x' } }), 403, 'insufficient_scope', 'error');
  });

  it('refuses a client-credentials token without the realm\'s role with 403', async () => {
    const token = await service.issuer.sign({ sub: 'sa', azp: 'other', realm_access: { roles: ['login-check'] } }, { realm: 'beta' });
    expectError(await call(service.app, 'post', LOCKING, { token, body: { username: 'alice', password: 'x' } }), 403, 'insufficient_scope', 'error');
  });

  it('refuses no token with 401 and a malformed body with 400 after the token', async () => {
    expectError(await call(service.app, 'post', PATH, { body: { username: 'alice' } }), 401, 'invalid_token', 'bare');
    expectError(await call(service.app, 'post', PATH, { token: loginServer, body: { username: 'alice', id: alice.id, password: 'x' } }), 400, 'invalid_request', 'error');
    expectError(await call(service.app, 'post', PATH, { token: loginServer, body: { password: 'x' } }), 400, 'invalid_request', 'error');
  });
});

describe('the start-up warning', () => {
  it('warns about a realm whose passwords are here until a login server has called login-check', () => {
    const warned = (realm: string): boolean =>
      logLines.some((line) => line.includes('no login server has called login-check') && line.includes(`"realm":"${realm}"`));
    expect(warned('alpha')).toBe(true);
    expect(warned('beta')).toBe(true);
  });

  it('is quiet about a realm a login server has called', async () => {
    await call(service.app, 'post', PATH, { token: loginServer, body: { username: 'alice', password: 'x' } });
    // The note is written in the background.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines: string[] = [];
    const again = createPasswordResources({
      mongodbUri: service.uri,
      realms: { alpha: { issuer: issuer.issuerOf('alpha') }, gamma: { issuer: issuer.issuerOf('gamma') } },
      bcryptCost: TEST_BCRYPT_COST,
      logger: pino({ level: 'info' }, new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      })),
    });
    try {
      await again.ready();
      const warnings = lines.filter((line) => line.includes('no login server has called login-check'));
      expect(warnings.map((line) => (JSON.parse(line) as { realm: string }).realm)).toEqual(['gamma']);
    } finally {
      await again.close();
    }
  });
});
