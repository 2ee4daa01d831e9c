import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import type { Credential, UserStore } from '../../src/domain/store';
import { DuplicateUserError } from '../../src/domain/store';
import { createMongooseUserStore } from '../../src/store/mongoose/user-store';
import { testDatabaseUri } from '../helpers/db';

/** A store under test, and how to reach the same data over a fresh connection. */
interface StoreFixture {
  readonly store: UserStore;
  /** A second store on a new connection to the same database. */
  reopen(): Promise<UserStore>;
  /** Cut the first store's connection while operations may be in flight. */
  interrupt(): Promise<void>;
  close(): Promise<void>;
}

function credential(label: string): Credential {
  // The store does not look inside hashes; a well-formed one keeps the data realistic.
  return { algorithm: 'bcrypt-sha256', hash: `$2b$10$${randomBytes(39).toString('base64').slice(0, 53)}${label}`, createdAt: new Date() };
}

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}-${randomBytes(3).toString('hex')}`;
}

/** The guarantees the account service rests on, for any `UserStore`. */
function describeUserStoreConformance(name: string, open: () => Promise<StoreFixture>): void {
  describe(`UserStore conformance: ${name}`, () => {
    let fixture: StoreFixture;
    beforeAll(async () => {
      fixture = await open();
    });
    afterAll(async () => fixture.close());

    it('gives exactly one winner to 20 concurrent compare-and-sets, 20 rounds in a row', async () => {
      const id = unique('cas');
      let current = credential('start');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, credential: current, requiredActions: [] });
      for (let round = 0; round < 20; round++) {
        const nexts = Array.from({ length: 20 }, (_, i) => credential(`r${round}c${i}`));
        const results = await Promise.all(
          nexts.map((next) =>
            fixture.store.compareAndSetCredential({ realm: 'alpha', id, expectedHash: current.hash, next, changedAt: new Date(), requiredActions: [] }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = nexts[results.indexOf(true)];
        const stored = await fixture.store.findById('alpha', id);
        expect(stored?.credential?.hash).toBe(winner?.hash);
        current = winner ?? current;
      }
    });

    it('refuses a compare-and-set whose expected credential is gone', async () => {
      const id = unique('stale');
      const first = credential('first');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, credential: first, requiredActions: [] });
      const change = { realm: 'alpha', id, changedAt: new Date(), requiredActions: [] };
      await expect(fixture.store.compareAndSetCredential({ ...change, expectedHash: first.hash, next: credential('second') })).resolves.toBe(true);
      await expect(fixture.store.compareAndSetCredential({ ...change, expectedHash: first.hash, next: credential('third') })).resolves.toBe(false);
    });

    it('sets a first credential only when there is none (expected null)', async () => {
      const id = unique('first');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, requiredActions: [] });
      const change = { realm: 'alpha', id, expectedHash: null, changedAt: new Date(), requiredActions: ['UPDATE_PASSWORD'] };
      const results = await Promise.all([1, 2, 3, 4, 5].map((i) => fixture.store.compareAndSetCredential({ ...change, next: credential(`n${i}`) })));
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await fixture.store.findById('alpha', id);
      expect(stored?.requiredActions).toEqual(['UPDATE_PASSWORD']);
      expect(stored?.passwordChangedAt).toBeInstanceOf(Date);
    });

    it('re-makes a credential by compare-and-set without counting it as a change', async () => {
      const id = unique('rehash');
      const old = credential('old');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, credential: old, requiredActions: ['UPDATE_PASSWORD'] });
      const nexts = [1, 2, 3, 4, 5].map((i) => credential(`up${i}`));
      const results = await Promise.all(nexts.map((next) => fixture.store.rehashCredential({ realm: 'alpha', id, expectedHash: old.hash, next })));
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await fixture.store.findById('alpha', id);
      expect(stored?.credential?.hash).toBe(nexts[results.indexOf(true)]?.hash);
      expect(stored?.passwordChangedAt).toBeUndefined();
      expect(stored?.requiredActions).toEqual(['UPDATE_PASSWORD']);
    });

    it('keeps usernames unique per realm under 20 concurrent creates', async () => {
      const username = unique('dup');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => fixture.store.create({ realm: 'alpha', id: `${username}-${i}`, username, enabled: true, requiredActions: [] })),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toEqual(new DuplicateUserError('username'));
      }
    });

    it('records an external password change, never moving the change time back', async () => {
      const id = unique('external');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, requiredActions: ['UPDATE_PASSWORD', 'VERIFY_EMAIL'] });
      const later = new Date(Date.now() + 5_000);
      expect(await fixture.store.recordPasswordChange('alpha', id, later, ['VERIFY_EMAIL'])).toBe(true);
      expect(await fixture.store.recordPasswordChange('alpha', id, new Date(Date.now() - 5_000), ['VERIFY_EMAIL'])).toBe(true);
      const stored = await fixture.store.findById('alpha', id);
      expect({ changedAt: stored?.passwordChangedAt?.getTime(), requiredActions: stored?.requiredActions, credential: stored?.credential }).toEqual({
        changedAt: later.getTime(),
        requiredActions: ['VERIFY_EMAIL'],
        credential: undefined,
      });
      expect(await fixture.store.recordPasswordChange('alpha', unique('nobody'), later, [])).toBe(false);
      expect(await fixture.store.recordPasswordChange('beta', id, later, [])).toBe(false);
    });

    it('allows the same username in two realms', async () => {
      const username = unique('shared');
      await fixture.store.create({ realm: 'alpha', id: `${username}-a`, username, enabled: true, requiredActions: [] });
      await fixture.store.create({ realm: 'beta', id: `${username}-b`, username, enabled: true, requiredActions: [] });
      expect((await fixture.store.findByUsername('beta', username))?.id).toBe(`${username}-b`);
    });

    it('keeps emails unique per realm when set, and lets users without one coexist', async () => {
      const email = `${unique('mail')}@example.com`;
      await fixture.store.create({ realm: 'alpha', id: unique('e1'), username: unique('e1'), email, enabled: true, requiredActions: [] });
      await expect(fixture.store.create({ realm: 'alpha', id: unique('e2'), username: unique('e2'), email, enabled: true, requiredActions: [] })).rejects.toEqual(
        new DuplicateUserError('email'),
      );
      await fixture.store.create({ realm: 'alpha', id: unique('n1'), username: unique('n1'), enabled: true, requiredActions: [] });
      await fixture.store.create({ realm: 'alpha', id: unique('n2'), username: unique('n2'), enabled: true, requiredActions: [] });
    });

    it("frees a renamed user's old username and email for another user, and keeps the renamed user whole", async () => {
      const [old, renamed] = [unique('before'), unique('after')];
      const first = credential('kept');
      await fixture.store.create({ realm: 'alpha', id: old, username: old, email: `${old}@example.com`, enabled: true, credential: first, requiredActions: ['VERIFY_EMAIL'] });
      await expect(fixture.store.update('alpha', old, { username: renamed, email: null })).resolves.toMatchObject({ id: old, username: renamed, email: undefined });
      await fixture.store.create({ realm: 'alpha', id: unique('taker'), username: old, email: `${old}@example.com`, enabled: true, requiredActions: [] });
      const stored = await fixture.store.findById('alpha', old);
      expect(stored).toMatchObject({ username: renamed, email: undefined, credential: { hash: first.hash }, requiredActions: ['VERIFY_EMAIL'] });
      // Renaming onto a taken username is refused and changes nothing.
      await expect(fixture.store.update('alpha', old, { username: old, firstName: 'Changed' })).rejects.toEqual(new DuplicateUserError('username'));
      expect((await fixture.store.findById('alpha', old))?.firstName).toBeUndefined();
      await expect(fixture.store.update('alpha', unique('nobody'), { username: unique('x') })).resolves.toBeNull();
    });

    it('keeps ids unique per realm', async () => {
      const id = unique('id');
      await fixture.store.create({ realm: 'alpha', id, username: unique('u'), enabled: true, requiredActions: [] });
      await expect(fixture.store.create({ realm: 'alpha', id, username: unique('u'), enabled: true, requiredActions: [] })).rejects.toEqual(
        new DuplicateUserError('id'),
      );
    });

    it('finds nothing for unknown users, and nothing across realms', async () => {
      const id = unique('lonely');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, requiredActions: [] });
      await expect(fixture.store.findById('alpha', 'no-such-id')).resolves.toBeNull();
      await expect(fixture.store.findByUsername('alpha', 'no-such-user')).resolves.toBeNull();
      await expect(fixture.store.findById('beta', id)).resolves.toBeNull();
    });

    it('reserves at most the budget of 20 concurrent guesses, each told the series is empty, from two stores, each guess with its own count', async () => {
      // Eight users at once, so that concurrent writes to one series really overlap on the server.
      const ids = Array.from({ length: 8 }, () => unique('guessed'));
      const other = await fixture.reopen();
      const outcomes = await Promise.all(
        ids.map(async (id) => {
          await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, requiredActions: [] });
          // Each store read the user once (as a request does), before any guess: what each is told is stale for all but the first.
          const read = [await fixture.store.findById('alpha', id), await other.findById('alpha', id)];
          const request = { now: new Date(), resetBefore: new Date(Date.now() - 60_000), budget: 5, known: { failures: read[0]?.loginFailures } };
          const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? fixture.store : other).reserveAttempt('alpha', id, request)));
          return {
            counts: results.flatMap((r) => (r?.kind === 'reserved' ? [r.failure.count] : [])).sort((a, b) => a - b),
            exhausted: results.filter((r) => r?.kind === 'exhausted').length,
            stored: (await fixture.store.findById('alpha', id))?.loginFailures,
          };
        }),
      );
      for (const outcome of outcomes) {
        expect(outcome.counts).toEqual([1, 2, 3, 4, 5]);
        expect(outcome.exhausted).toBe(15);
        expect(outcome.stored).toMatchObject({ count: 5, remaining: 0 });
      }
    });

    it('tells each reserved guess when the failure before it was, for the quick-login check', async () => {
      const id = unique('quick');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, requiredActions: [] });
      const first = new Date(Date.now() - 2_000);
      const second = new Date(Date.now() - 1_000);
      const resetBefore = new Date(Date.now() - 60_000);
      const one = await fixture.store.reserveAttempt('alpha', id, { now: first, resetBefore, budget: 5, known: { failures: undefined } });
      const stored = await fixture.store.findById('alpha', id);
      const two = await fixture.store.reserveAttempt('alpha', id, { now: second, resetBefore, budget: 5, known: { failures: stored?.loginFailures } });
      expect(one).toEqual({ kind: 'reserved', failure: { count: 1, previousFailureAt: undefined, temporaryLockouts: 0 } });
      expect(two).toEqual({ kind: 'reserved', failure: { count: 2, previousFailureAt: first, temporaryLockouts: 0 } });
    });

    it('reserves a guess of a user deleted and made again under the same id, whatever it read of the old one', async () => {
      const id = unique('reborn');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, requiredActions: [] });
      const old = await fixture.store.findById('alpha', id);
      await fixture.store.delete('alpha', id);
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, requiredActions: [] });
      const reservation = await fixture.store.reserveAttempt('alpha', id, { now: new Date(), resetBefore: new Date(0), budget: 5, known: { failures: old?.loginFailures } });
      expect(reservation).toEqual({ kind: 'reserved', failure: { count: 1, previousFailureAt: undefined, temporaryLockouts: 0 } });
      expect((await fixture.store.findById('alpha', id))?.loginFailures).toMatchObject({ count: 1, remaining: 4 });
      await fixture.store.delete('alpha', id);
      await expect(fixture.store.reserveAttempt('alpha', id, { now: new Date(), resetBefore: new Date(0), budget: 5, known: { failures: undefined } })).resolves.toBeNull();
    });

    it('leaves the old or a new credential after writes cut by a lost connection, never neither', async () => {
      const id = unique('cut');
      const old = credential('old');
      await fixture.store.create({ realm: 'alpha', id, username: id, enabled: true, credential: old, requiredActions: [] });
      const nexts = Array.from({ length: 10 }, (_, i) => credential(`cut${i}`));
      const writes = nexts.map((next) =>
        fixture.store.compareAndSetCredential({ realm: 'alpha', id, expectedHash: old.hash, next, changedAt: new Date(), requiredActions: [] }),
      );
      const settled = Promise.allSettled(writes);
      await fixture.interrupt();
      const outcomes = await settled;
      expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value).length).toBeLessThanOrEqual(1);
      const reopened = await fixture.reopen();
      const stored = await reopened.findById('alpha', id);
      expect([old.hash, ...nexts.map((n) => n.hash)]).toContain(stored?.credential?.hash);
      expect(stored?.username).toBe(id);
    });
  });
}

describeUserStoreConformance('mongoose on the test server', async () => {
  const uri = testDatabaseUri('conformance');
  const connections: mongoose.Connection[] = [];
  const connect = async (): Promise<UserStore> => {
    const connection = mongoose.createConnection(uri, { bufferCommands: false, serverSelectionTimeoutMS: 2_000 });
    connections.push(connection);
    await connection.asPromise();
    const store = createMongooseUserStore(connection);
    await store.init();
    return store;
  };
  const store = await connect();
  return {
    store,
    reopen: connect,
    interrupt: async () => {
      // force: in-flight operations fail rather than finish.
      await connections[0]?.close(true);
    },
    close: async () => {
      await Promise.all(connections.map((connection) => connection.close()));
    },
  };
});
