import type { CredentialStore, CredentialUser } from '../../src/domain/credential-store';
import { StoreUnavailableError } from '../../src/domain/store';
import { InvalidPasswordError, InvalidRequestError } from '../../src/errors';
import type { PolicyViolation } from '../../src/errors';

/** A credential store under test, with a way to make users in it. */
export interface CredentialStoreFixture<User extends CredentialUser> {
  readonly store: CredentialStore<User>;
  /** The same store configured against an address where nothing answers. */
  readonly unreachable: CredentialStore<User>;
  /** A password the store's own rules refuse for a user whose password is `current`. */
  refusedPassword(current: string): string;
  /** A user `username` (email `username@example.com`) with this password. */
  createUser(username: string, password: string): Promise<User>;
  /** Sessions or other traces a check left for the user, beyond the store's own failure count. */
  tracesOf(user: User): Promise<number>;
  close(): Promise<void>;
}

const CHECK = { toReplace: false } as const;

/**
 * What the account service relies on from a realm's credential store, for any
 * implementation: ours over the `UserStore`, and Keycloak's in sidecar mode.
 * A user value is a snapshot: the suite reads it again after a change.
 */
export function describeCredentialStoreConformance<User extends CredentialUser>(name: string, open: () => Promise<CredentialStoreFixture<User>>): void {
  describe(`CredentialStore conformance: ${name}`, () => {
    let fixture: CredentialStoreFixture<User>;
    beforeAll(async () => {
      fixture = await open();
    });
    afterAll(async () => fixture.close());

    const reread = async (user: User): Promise<User> => {
      const found = await fixture.store.findUser(user.id);
      if (!found) throw new Error(`user ${user.username} is gone`);
      return found;
    };

    it('finds a user by id with username, email, enabled and required actions, and nobody for an unknown id', async () => {
      const user = await fixture.createUser('finn', 'finn password 12');
      expect(await fixture.store.findUser(user.id)).toMatchObject({ id: user.id, username: 'finn', email: 'finn@example.com', enabled: true, requiredActions: [] });
      expect(await fixture.store.findUser('00000000-0000-4000-8000-000000000000')).toBeNull();
    });

    it('tells the right password from a wrong one, leaving no trace', async () => {
      const user = await fixture.createUser('vic', 'vic password 34');
      expect(await fixture.store.verify(user, 'vic password 34', CHECK)).toEqual({ kind: 'valid' });
      expect(await fixture.store.verify(user, 'vic password 35', CHECK)).toEqual({ kind: 'invalid' });
      expect(await fixture.store.verify(user, 'vic password 34', { toReplace: true })).toEqual({ kind: 'valid' });
      expect(await fixture.tracesOf(user)).toBe(0);
    });

    it('sets a new password: the new one validates, the old one no longer does', async () => {
      const user = await fixture.createUser('sam', 'sam password 56');
      await fixture.store.setPassword(user, 'sam new password 78', { temporary: false });
      const after = await reread(user);
      expect(await fixture.store.verify(after, 'sam new password 78', CHECK)).toEqual({ kind: 'valid' });
      expect(await fixture.store.verify(after, 'sam password 56', CHECK)).toEqual({ kind: 'invalid' });
    });

    it('refuses a password its own rules refuse, before or when setting it, and keeps the old one', async () => {
      const user = await fixture.createUser('pia', 'pia password 90');
      const refused = fixture.refusedPassword('pia password 90');
      let violations: readonly PolicyViolation[] = await fixture.store.reuseViolations(user, refused, { includeCurrent: true });
      if (violations.length === 0) {
        const error = await fixture.store.setPassword(user, refused, { temporary: false }).catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(InvalidPasswordError);
        violations = (error as InvalidPasswordError).violations;
      }
      expect(violations.length).toBeGreaterThan(0);
      expect(violations[0]).toEqual(expect.objectContaining({ policy: expect.any(String) as string, message: expect.any(String) as string }));
      expect(await fixture.store.verify(await reread(user), 'pia password 90', CHECK)).toEqual({ kind: 'valid' });
    });

    it('names no reuse of a password the user never had', async () => {
      const user = await fixture.createUser('nia', 'nia password 12');
      expect(await fixture.store.reuseViolations(user, 'a password nia never had 34', { includeCurrent: true })).toEqual([]);
    });

    it('marks a temporary password with UPDATE_PASSWORD and still tells it is right; a permanent one clears the mark', async () => {
      const user = await fixture.createUser('ted', 'ted password 12');
      await fixture.store.setPassword(user, 'ted temporary 34', { temporary: true });
      const temporary = await reread(user);
      expect(temporary.requiredActions).toEqual(['UPDATE_PASSWORD']);
      expect(await fixture.store.verify(temporary, 'ted temporary 34', CHECK)).toEqual({ kind: 'valid' });
      await fixture.store.setPassword(temporary, 'ted permanent 56', { temporary: false });
      expect((await reread(user)).requiredActions).toEqual([]);
    });

    it('honours the expiry of a temporary password, or refuses it and keeps the old password', async () => {
      const user = await fixture.createUser('eve', 'eve password 78');
      const outcome = await fixture.store
        .setPassword(user, 'eve temporary 90', { temporary: true, expiresAt: new Date(Date.now() - 1_000) })
        .then(() => 'set' as const, (error: unknown) => error);
      const after = await reread(user);
      if (outcome === 'set') {
        expect(await fixture.store.verify(after, 'eve temporary 90', CHECK)).toEqual({ kind: 'invalid' });
      } else {
        expect(outcome).toBeInstanceOf(InvalidRequestError);
        expect(await fixture.store.verify(after, 'eve password 78', CHECK)).toEqual({ kind: 'valid' });
      }
    });

    it('throws StoreUnavailableError when the store cannot be reached, and never answers wrongly', async () => {
      const user = await fixture.createUser('una', 'una password 56');
      await expect(fixture.unreachable.findUser(user.id)).rejects.toBeInstanceOf(StoreUnavailableError);
      // A store may tell from what it already read (ours holds the hash): then the answer must be right.
      for (const [password, expected] of [['una password 56', 'valid'], ['una password 57', 'invalid']] as const) {
        const check: unknown = await fixture.unreachable.verify(user, password, CHECK).catch((error: unknown) => error);
        if (check instanceof StoreUnavailableError) continue;
        expect(check).toEqual({ kind: expected });
      }
      await expect(fixture.unreachable.setPassword(user, 'una password 78', { temporary: false })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(fixture.unreachable.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(fixture.store.ping()).resolves.toBeUndefined();
      expect(await fixture.store.verify(await reread(user), 'una password 56', CHECK)).toEqual({ kind: 'valid' });
    });
  });
}
