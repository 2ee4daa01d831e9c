import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPasswordHasher } from '../../src/domain/hashing';
import type { PasswordHasher } from '../../src/domain/hashing';
import { call, expectError } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const RESET = '/realms/alpha/password-resources/reset-password';
const PASSWORD = 'the right password';

/** The hasher behind a gate: while it is closed, a hash that started holds its slot until the test opens it. */
function gatedHasher(): { hasher: PasswordHasher; entered: () => number; close: () => void; open: () => void } {
  const inner = createPasswordHasher();
  let entered = 0;
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  return {
    hasher: {
      async hash(password, scheme) {
        entered += 1;
        await gate;
        return inner.hash(password, scheme);
      },
      async verify(password, credential) {
        entered += 1;
        await gate;
        return inner.verify(password, credential);
      },
      needsRehash: (credential, scheme) => inner.needsRehash(credential, scheme),
    },
    entered: () => entered,
    close: () => {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    open: () => {
      open();
    },
  };
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}

let issuer: TestIssuer;
let service: TestService;
let gate: ReturnType<typeof gatedHasher>;
beforeAll(async () => {
  issuer = await TestIssuer.start();
  gate = gatedHasher();
  service = await startTestService(
    'load-shedding',
    {
      // One hash at a time and no time for any to wait: the second concurrent password check is one too many.
      hashQueue: { concurrency: 1, budgetMs: 0 },
      hasher: gate.hasher,
      realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: { failureFactor: 1, quickLoginCheckMilliSeconds: 0 } } },
    },
    issuer,
  );
});
afterAll(async () => {
  gate.open();
  await service.close();
  await issuer.stop();
});

describe('load shedding', () => {
  it('answers 503 with Retry-After at once when the time budget is spent, and serves what it took', async () => {
    const [holder, busy, other] = [await service.createUser('holder', PASSWORD), await service.createUser('busy', PASSWORD), await service.createUser('other', PASSWORD)];
    gate.close();
    const before = gate.entered();
    const holding = call(service.app, 'post', VALIDATE, { token: holder.token, body: { password: PASSWORD } });
    await until(() => gate.entered() === before + 1);
    const tooMany = await Promise.all([
      call(service.app, 'post', VALIDATE, { token: busy.token, body: { password: PASSWORD } }),
      call(service.app, 'post', RESET, { token: other.token, body: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' } }),
    ]);
    for (const res of tooMany) {
      // Retry-After: the time the queued work needs by the measured hash time, in whole seconds, at least 1.
      expectError(res, 503, 'temporarily_unavailable');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(gate.entered()).toBe(before + 1); // refused before any hash
    // Shed without a write: no audit event for an overload, no guess taken from the users' lockout budgets.
    expect(await service.resources.metrics.getSingleMetricAsString('password_resources_audit_events_total')).not.toMatch(/_ERROR/);
    expect(await service.resources.metrics.getSingleMetricAsString('password_resources_hash_queue_rejected_total')).toMatch(/\{reason="budget"\} 2$/m);
    for (const user of [busy, other]) expect((await service.resources.accounts.findByUsername('alpha', user === busy ? 'busy' : 'other'))?.loginFailures).toBeUndefined();

    gate.open();
    expect((await holding).body).toEqual({ valid: true });
    const served = await call(service.app, 'post', VALIDATE, { token: busy.token, body: { password: PASSWORD } });
    expect(served.body).toEqual({ valid: true });
  });

  it('never makes work refused before hashing wait behind hashing', async () => {
    const holder = await service.createUser('holder-2', PASSWORD);
    const locked = await service.createUser('locked', PASSWORD);
    // failureFactor 1: one wrong password locks.
    expect((await call(service.app, 'post', VALIDATE, { token: locked.token, body: { password: 'wrong' } })).body).toEqual({ valid: false });
    gate.close();
    const before = gate.entered();
    const holding = call(service.app, 'post', VALIDATE, { token: holder.token, body: { password: PASSWORD } });
    await until(() => gate.entered() === before + 1);

    // The only hashing slot is taken and nobody may wait, yet these are answered.
    const [badToken, lockedUser, badBody] = await Promise.all([
      call(service.app, 'post', VALIDATE, { token: `${holder.token}x`, body: { password: PASSWORD } }),
      call(service.app, 'post', VALIDATE, { token: locked.token, body: { password: PASSWORD } }),
      call(service.app, 'post', VALIDATE, { token: holder.token, body: { password: 12 } }),
    ]);
    expectError(badToken, 401, 'invalid_token', 'error');
    expectError(lockedUser, 429, 'too_many_failures');
    expectError(badBody, 400, 'invalid_request', 'error');
    expect(gate.entered()).toBe(before + 1);
    gate.open();
    expect((await holding).body).toEqual({ valid: true });
  });
});

describe('a client that goes away', () => {
  let gated: ReturnType<typeof gatedHasher>;
  let queued: TestService;
  beforeAll(async () => {
    gated = gatedHasher();
    queued = await startTestService(
      'load-shedding-abandoned',
      {
        // One hash at a time, and room to wait.
        hashQueue: { concurrency: 1, budgetMs: 60_000, intervalMs: 60_000 },
        hasher: gated.hasher,
        realms: { alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE } },
      },
      issuer,
    );
  });
  afterAll(async () => {
    gated.open();
    await queued.close();
  });

  it('has its waiting password check dropped before the hash, and its guess given back', async () => {
    const [holder, leaver] = [await queued.createUser('holder', PASSWORD), await queued.createUser('leaver', PASSWORD)];
    const server = createServer(queued.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const metric = async (name: string): Promise<string> => queued.resources.metrics.getSingleMetricAsString(name);
    try {
      gated.close();
      const before = gated.entered();
      const holding = call(queued.app, 'post', VALIDATE, { token: holder.token, body: { password: PASSWORD } });
      await until(() => gated.entered() === before + 1);
      const leaving = request({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        method: 'POST',
        path: VALIDATE,
        headers: { authorization: `Bearer ${leaver.token}`, 'content-type': 'application/json' },
      });
      leaving.on('error', () => undefined);
      leaving.end(JSON.stringify({ password: PASSWORD }));
      await until(async () => /_waiting 1$/m.test(await metric('password_resources_hash_queue_waiting')));
      leaving.destroy();
      await until(async () => /\{reason="abandoned"\} 1$/m.test(await metric('password_resources_hash_queue_rejected_total')));
      expect(await metric('password_resources_hash_queue_waiting')).toMatch(/_waiting 0$/m);
      gated.open();
      expect((await holding).body).toEqual({ valid: true });
      expect(gated.entered()).toBe(before + 1); // the leaver's password was never checked
      expect((await queued.resources.accounts.findByUsername('alpha', 'leaver'))?.loginFailures?.count ?? 0).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
