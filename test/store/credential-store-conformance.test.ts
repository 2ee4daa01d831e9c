import mongoose from 'mongoose';
import { freePort } from '../../src/db/mongo-server';
import { createPasswordHasher } from '../../src/domain/hashing';
import { LocalCredentialStore } from '../../src/domain/local-credential-store';
import { parsePasswordPolicy } from '../../src/domain/policy';
import type { UserStore } from '../../src/domain/store';
import { createMongooseUserStore } from '../../src/store/mongoose/user-store';
import { describeCredentialStoreConformance } from '../helpers/credential-store-conformance';
import { testDatabaseUri } from '../helpers/db';
import { DEFAULT_ARGON2_SCHEME } from '../helpers/setup';

describeCredentialStoreConformance('ours, over mongoose on the test server', async () => {
  const realm = 'conformance';
  const hasher = createPasswordHasher();
  const scheme = DEFAULT_ARGON2_SCHEME;
  const policy = parsePasswordPolicy('length(10) and passwordHistory(3)');
  const connect = (uri: string, timeoutMs: number): mongoose.Connection => mongoose.createConnection(uri, { bufferCommands: false, serverSelectionTimeoutMS: timeoutMs });
  const connection = connect(testDatabaseUri('credential-conformance'), 2_000);
  await connection.asPromise();
  const users = createMongooseUserStore(connection);
  await users.init();
  // Nothing listens there: every operation fails server selection.
  const nowhere = connect(`mongodb://127.0.0.1:${await freePort()}/nowhere`, 500);
  nowhere.on('error', () => undefined);
  const rehashErrors: unknown[] = [];
  const storeOver = (userStore: UserStore): LocalCredentialStore =>
    new LocalCredentialStore({ realm, users: userStore, hasher, policy: () => policy, scheme: () => scheme, now: () => new Date(), onRehashError: (error) => rehashErrors.push(error) });
  return {
    store: storeOver(users),
    unreachable: storeOver(createMongooseUserStore(nowhere)),
    // passwordHistory(3): the current password may not come back.
    refusedPassword: (current) => current,
    async createUser(username, password) {
      const credential = { ...(await hasher.hash(password, scheme)), id: `credential-of-${username}` };
      return users.create({ realm, id: `id-of-${username}`, username, email: `${username}@example.com`, enabled: true, credential, requiredActions: [] });
    },
    async tracesOf(user) {
      const stored = await users.findById(realm, user.id);
      return stored?.loginFailures?.count ?? 0;
    },
    async close() {
      expect(rehashErrors).toEqual([]);
      await Promise.all([connection.close(), nowhere.close()]);
    },
  };
});
