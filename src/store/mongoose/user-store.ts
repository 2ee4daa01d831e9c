import { Schema } from 'mongoose';
import type { Connection, Model } from 'mongoose';
import { DuplicateUserError, StoreUnavailableError } from '../../domain/store';
import type { Credential, CredentialChange, CredentialRehash, FieldMatch, NewUser, UserFilter, UserRecord, UserStore } from '../../domain/store';

interface CredentialDocument {
  id?: string | undefined;
  algorithm: Credential['algorithm'];
  hash: string;
  salt?: string | undefined;
  parameters?: Record<string, string | number> | undefined;
  createdAt: Date;
  temporary?: boolean | undefined;
  expiresAt?: Date | undefined;
}

interface UserDocument {
  realm: string;
  userId: string;
  username: string;
  email?: string | undefined;
  emailVerified?: boolean | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  locale?: string | undefined;
  enabled: boolean;
  credential?: CredentialDocument | undefined;
  previousCredentials?: CredentialDocument[] | undefined;
  passwordChangedAt?: Date | undefined;
  requiredActions: string[];
  loginFailures?: LoginFailuresDocument | undefined;
  createdAt: Date;
}

interface LoginFailuresDocument {
  count: number;
  lastFailureAt?: Date | undefined;
  lockedUntil?: Date | undefined;
  temporaryLockouts?: number | undefined;
}

const credentialSchema = new Schema<CredentialDocument>(
  {
    id: { type: String },
    algorithm: { type: String, required: true },
    hash: { type: String, required: true },
    salt: { type: String },
    parameters: { type: Schema.Types.Mixed },
    createdAt: { type: Date, required: true },
    temporary: { type: Boolean },
    expiresAt: { type: Date },
  },
  { _id: false },
);

const userSchema = new Schema<UserDocument>(
  {
    realm: { type: String, required: true },
    userId: { type: String, required: true },
    username: { type: String, required: true },
    email: { type: String },
    emailVerified: { type: Boolean },
    firstName: { type: String },
    lastName: { type: String },
    locale: { type: String },
    enabled: { type: Boolean, required: true },
    credential: { type: credentialSchema },
    previousCredentials: { type: [credentialSchema], default: undefined },
    passwordChangedAt: { type: Date },
    requiredActions: { type: [String], default: [] },
    loginFailures: {
      type: new Schema<LoginFailuresDocument>(
        { count: { type: Number, required: true }, lastFailureAt: Date, lockedUntil: Date, temporaryLockouts: Number },
        { _id: false },
      ),
    },

    createdAt: { type: Date, required: true },
  },
  // Indexes are created by init(), awaited, never in the background on first use.
  { collection: 'users', id: false, versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false },
);
userSchema.index({ realm: 1, userId: 1 }, { unique: true, name: 'realm_userId' });
userSchema.index({ realm: 1, username: 1 }, { unique: true, name: 'realm_username' });
userSchema.index(
  { realm: 1, email: 1 },
  { unique: true, name: 'realm_email', partialFilterExpression: { email: { $type: 'string' } } },
);

const DUPLICATE_KEY = 11000;

function toCredential(doc: CredentialDocument): Credential {
  return {
    ...(doc.id === undefined ? {} : { id: doc.id }),
    algorithm: doc.algorithm,
    hash: doc.hash,
    ...(doc.salt === undefined ? {} : { salt: doc.salt }),
    ...(doc.parameters === undefined ? {} : { parameters: { ...doc.parameters } }),
    createdAt: doc.createdAt,
    ...(doc.temporary === true ? { temporary: true } : {}),
    ...(doc.expiresAt === undefined ? {} : { expiresAt: doc.expiresAt }),
  };
}

function toRecord(doc: UserDocument): UserRecord {
  return {
    realm: doc.realm,
    id: doc.userId,
    username: doc.username,
    email: doc.email ?? undefined,
    emailVerified: doc.emailVerified ?? false,
    firstName: doc.firstName ?? undefined,
    lastName: doc.lastName ?? undefined,
    locale: doc.locale ?? undefined,
    enabled: doc.enabled,
    credential: doc.credential ? toCredential(doc.credential) : undefined,
    previousCredentials: (doc.previousCredentials ?? []).map(toCredential),
    passwordChangedAt: doc.passwordChangedAt ?? undefined,
    requiredActions: [...doc.requiredActions],
    loginFailures: doc.loginFailures
      ? {
          count: doc.loginFailures.count,
          lastFailureAt: doc.loginFailures.lastFailureAt ?? undefined,
          lockedUntil: doc.loginFailures.lockedUntil ?? undefined,
          temporaryLockouts: doc.loginFailures.temporaryLockouts ?? 0,
        }
      : undefined,
    createdAt: doc.createdAt,
  };
}

/** Network errors, timeouts and server selection failures: the database is away, not our bug. */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    /^Mongo(Network|NetworkTimeout|ServerSelection|NotConnected|TopologyClosed|PoolCleared|OperationTimeout)Error$/.test(error.name) ||
    error.name === 'MongooseServerSelectionError' ||
    // Mongoose refuses to queue commands while disconnected (bufferCommands: false).
    (error.name === 'MongooseError' && /connection|buffering/i.test(error.message))
  );
}

export async function translate<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isUnavailable(error)) throw new StoreUnavailableError({ cause: error });
    throw error;
  }
}

/** A conditional write's filter for a user, or `null` for an unknown user. */
type Keyed = (realm: string, id: string, condition: Readonly<Record<string, unknown>>) => Promise<Record<string, unknown> | null>;

/**
 * A conditional write's filter: the user's document `_id` and the condition.
 * SecantusDB 0.5.3-beta serves a filter from the `realm_userId` index only
 * when it has no other field; with one (the hash of a compare-and-set) it
 * scans the collection, 0.3-2 s per write at 100,000 users, while it serves
 * any filter with `_id` from that index. So the `_id` is read first, by an
 * indexed lookup. It never changes; a user deleted and re-created in between
 * has a new one, which the write then does not match, as it should not.
 * @returns `null` for an unknown user
 */
function keyedFilter(users: Model<UserDocument>): Keyed {
  return async (realm, id, condition) => {
    const doc = await users.collection.findOne({ realm, userId: id }, { projection: { _id: 1 } });
    return doc ? { _id: doc._id, ...condition } : null;
  };
}

/** Indexes at start, and the readiness probe. */
function health(connection: Connection, users: Model<UserDocument>): Pick<UserStore, 'init' | 'ping'> {
  return {
    init: () => translate(async () => {
      await users.createCollection();
      await users.createIndexes();
    }),

    ping: () =>
      translate(async () => {
        const db = connection.db;
        if (!db) throw new StoreUnavailableError();
        await db.command({ ping: 1 });
      }),
  };
}

/** Reading users: by id, by username, by filter. */
function lookups(users: Model<UserDocument>): Pick<UserStore, 'findById' | 'findByUsername' | 'find' | 'count'> {
  return {
    findById: (realm, id) =>
      translate(async () => {
        const doc = await users.findOne({ realm, userId: id }).lean<UserDocument>().exec();
        return doc ? toRecord(doc) : null;
      }),

    findByUsername: (realm, username) =>
      translate(async () => {
        const doc = await users.findOne({ realm, username }).lean<UserDocument>().exec();
        return doc ? toRecord(doc) : null;
      }),

    find: (realm, filter, page) =>
      translate(async () => {
        const docs = await users.find(toQuery(realm, filter)).sort({ username: 1 }).skip(page.first).limit(page.max).lean<UserDocument[]>().exec();
        return docs.map(toRecord);
      }),

    count: (realm, filter) => translate(() => users.countDocuments(toQuery(realm, filter)).exec()),
  };
}

/** A new user; a taken username, email or id is a `DuplicateUserError`. */
function creation(users: Model<UserDocument>): Pick<UserStore, 'create'> {
  return {
    create: (user: NewUser) =>
      translate(async () => {
        const doc: UserDocument = {
          realm: user.realm,
          userId: user.id,
          username: user.username,
          email: user.email,
          ...(user.emailVerified === true ? { emailVerified: true } : {}),
          ...(user.firstName === undefined ? {} : { firstName: user.firstName }),
          ...(user.lastName === undefined ? {} : { lastName: user.lastName }),
          ...(user.locale === undefined ? {} : { locale: user.locale }),
          enabled: user.enabled,
          credential: user.credential,
          requiredActions: [...user.requiredActions],
          createdAt: new Date(),
        };
        try {
          await users.collection.insertOne({ ...doc });
        } catch (error) {
          if (isDuplicateKey(error)) {
            throw new DuplicateUserError(duplicateField(error));
          }
          throw error;
        }
        return toRecord(doc);
      }),
  };
}

/** An admin's changes to a user's fields, and deletion. */
function edits(connection: Connection, users: Model<UserDocument>): Pick<UserStore, 'update' | 'delete'> {
  return {
    update: (realm, id, patch) =>
      translate(async () => {
        const set: Record<string, unknown> = {};
        const unset: Record<string, ''> = {};
        for (const field of ['username', 'email', 'emailVerified', 'firstName', 'lastName', 'locale', 'enabled', 'requiredActions'] as const) {
          const value = patch[field];
          if (value === null) unset[field] = '';
          else if (value !== undefined) set[field] = Array.isArray(value) ? [...(value as string[])] : value;
        }
        if (patch.clearFailures === true) unset.loginFailures = '';
        try {
          if (patch.username !== undefined || patch.email !== undefined) {
            const rekeyed = await rekey(connection, users, realm, id, set, unset);
            if (rekeyed !== 'no transactions') return rekeyed ? toRecord(rekeyed) : null;
          }
          const doc = await users
            .findOneAndUpdate({ realm, userId: id }, { ...(Object.keys(set).length > 0 ? { $set: set } : {}), ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) }, { returnDocument: 'after' })
            .lean<UserDocument>()
            .exec();
          return doc ? toRecord(doc) : null;
        } catch (error) {
          if (isDuplicateKey(error)) throw new DuplicateUserError(duplicateField(error));
          throw error;
        }
      }),

    delete: (realm, id) =>
      translate(async () => {
        const result = await users.deleteOne({ realm, userId: id }).exec();
        return result.deletedCount === 1;
      }),
  };
}

/** Password changes: each a compare-and-set on the credential it replaces. */
function credentials(users: Model<UserDocument>, keyed: Keyed): Pick<UserStore, 'compareAndSetCredential' | 'rehashCredential' | 'removeCredential' | 'recordPasswordChange'> {
  return {
    compareAndSetCredential: (change: CredentialChange) =>
      translate(async () => {
        // The compare: the credential this change replaces must still be there.
        const filter = await keyed(change.realm, change.id, { 'credential.hash': change.expectedHash });
        if (!filter) return false;
        const result = await users
          .updateOne(
            filter,
            {
              $set: {
                credential: change.next,
                passwordChangedAt: change.changedAt,
                requiredActions: [...change.requiredActions],
              },
              // The replaced credential joins the history in the same atomic write.
              ...(change.history && change.history.keep > 0
                ? { $push: { previousCredentials: { $each: [change.history.previous], $slice: -change.history.keep } } }
                : {}),
            },
          )
          .exec();
        return result.modifiedCount === 1;
      }),

    rehashCredential: (rehash: CredentialRehash) =>
      translate(async () => {
        const filter = await keyed(rehash.realm, rehash.id, { 'credential.hash': rehash.expectedHash });
        if (!filter) return false;
        const result = await users.updateOne(filter, { $set: { credential: rehash.next } }).exec();
        return result.modifiedCount === 1;
      }),

    removeCredential: (realm, id, expectedHash, changedAt) =>
      translate(async () => {
        const filter = await keyed(realm, id, { 'credential.hash': expectedHash });
        if (!filter) return false;
        const result = await users.updateOne(filter, { $unset: { credential: '', previousCredentials: '' }, $set: { passwordChangedAt: changedAt } }).exec();
        return result.modifiedCount === 1;
      }),

    recordPasswordChange: (realm, id, changedAt, requiredActions) =>
      translate(async () => {
        // $max: of two changes recorded out of order, the later one stays.
        const result = await users.updateOne({ realm, userId: id }, { $max: { passwordChangedAt: changedAt }, $set: { requiredActions: [...requiredActions] } }).exec();
        return result.matchedCount === 1;
      }),
  };
}

/** Brute force detection's counters and lockouts, each one atomic write. */
function failures(users: Model<UserDocument>, keyed: Keyed): Pick<UserStore, 'recordFailure' | 'lockTemporarily' | 'disable' | 'clearFailures'> {
  return {
    recordFailure: (realm, id, now, resetBefore) =>
      translate(async () => {
        // A stale series starts again; both writes are atomic, so concurrent failures on any instance all count.
        const stale = await keyed(realm, id, { 'loginFailures.lastFailureAt': { $lt: resetBefore } });
        if (!stale) return null;
        await users.updateOne(stale, { $set: { 'loginFailures.count': 0 } }).exec();
        const before = await users
          .findOneAndUpdate(
            { realm, userId: id },
            { $inc: { 'loginFailures.count': 1 }, $set: { 'loginFailures.lastFailureAt': now } },
            { returnDocument: 'before', projection: { loginFailures: 1 } },
          )
          .lean<Pick<UserDocument, 'loginFailures'>>()
          .exec();
        if (!before) return null;
        const previous = before.loginFailures;
        const fresh = previous?.lastFailureAt === undefined || previous.lastFailureAt < resetBefore;
        return {
          count: (fresh ? 0 : previous.count) + 1,
          previousFailureAt: fresh ? undefined : previous.lastFailureAt,
          temporaryLockouts: previous?.temporaryLockouts ?? 0,
        };
      }),

    lockTemporarily: (realm, id, until, counts) =>
      translate(async () => {
        await users
          .updateOne({ realm, userId: id }, { $max: { 'loginFailures.lockedUntil': until }, ...(counts ? { $inc: { 'loginFailures.temporaryLockouts': 1 } } : {}) })
          .exec();
      }),

    disable: (realm, id) =>
      translate(async () => {
        await users.updateOne({ realm, userId: id }, { $set: { enabled: false } }).exec();
      }),

    clearFailures: (realm, id) =>
      translate(async () => {
        // Keyed on the index alone (one round trip); unsetting an absent field writes nothing.
        await users.updateOne({ realm, userId: id }, { $unset: { loginFailures: '' } }).exec();
      }),
  };
}

/**
 * The shipped `UserStore`: one `users` collection on the connection given.
 * Models live on that connection, never on mongoose's global one.
 */
export function createMongooseUserStore(connection: Connection): UserStore {
  const users: Model<UserDocument> = connection.model<UserDocument>('PasswordResourcesUser', userSchema);
  const keyed = keyedFilter(users);
  return {
    ...health(connection, users),
    ...lookups(users),
    ...creation(users),
    ...edits(connection, users),
    ...credentials(users, keyed),
    ...failures(users, keyed),
  };
}

/** MongoDB's IllegalOperation: a standalone server has no transactions. */
const ILLEGAL_OPERATION = 20;

/**
 * Change a user's username or email (unique keys) as a delete and an insert of
 * the changed document, in one transaction. SecantusDB 0.5.3-beta leaves a
 * changed field's old value in its unique indexes after an update in place, so
 * a renamed user's old username or email could never be taken again; a delete
 * frees it. A standalone mongod has no transactions but updates its indexes
 * right: then `'no transactions'`, and the caller updates in place.
 * @returns the user after the change, or `null` for an unknown user
 */
async function rekey(
  connection: Connection,
  users: Model<UserDocument>,
  realm: string,
  id: string,
  set: Readonly<Record<string, unknown>>,
  unset: Readonly<Record<string, ''>>,
): Promise<UserDocument | null | 'no transactions'> {
  const session = await connection.startSession();
  try {
    let after: UserDocument | null = null;
    await session.withTransaction(async () => {
      const before = await users.collection.findOne({ realm, userId: id }, { session });
      if (!before) return;
      const changed: Record<string, unknown> = { ...before, ...set };
      for (const field of Object.keys(unset)) Reflect.deleteProperty(changed, field);
      await users.collection.deleteOne({ _id: before._id }, { session });
      await users.collection.insertOne(changed, { session });
      after = changed as unknown as UserDocument;
    });
    return after;
  } catch (error) {
    if ((error as { code?: unknown }).code === ILLEGAL_OPERATION) return 'no transactions';
    throw error;
  } finally {
    await session.endSession();
  }
}

/** A regular expression matching `text` literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Username and email are stored lower-case: an anchored, case-sensitive prefix can use their index. */
function fieldCondition(field: string, match: FieldMatch): Record<string, unknown> {
  const lowerCased = field === 'username' || field === 'email';
  const value = lowerCased ? match.value.toLowerCase() : match.value;
  const pattern = match.mode === 'exact' ? `^${literal(value)}$` : match.mode === 'prefix' ? `^${literal(value)}` : literal(value);
  return { [field]: lowerCased ? { $regex: pattern } : { $regex: pattern, $options: 'i' } };
}

function toQuery(realm: string, filter: UserFilter): Record<string, unknown> {
  const all: Record<string, unknown>[] = [{ realm }];
  for (const field of ['username', 'email', 'firstName', 'lastName'] as const) {
    const match = filter[field];
    if (match) all.push(fieldCondition(field, match));
  }
  if (filter.any) {
    const match = filter.any;
    all.push({ $or: (['username', 'email', 'firstName', 'lastName'] as const).map((field) => fieldCondition(field, match)) });
  }
  if (filter.enabled !== undefined) all.push({ enabled: filter.enabled });
  if (filter.emailVerified !== undefined) all.push(filter.emailVerified ? { emailVerified: true } : { emailVerified: { $ne: true } });
  return { $and: all };
}

interface DuplicateKeyError extends Error {
  code: typeof DUPLICATE_KEY;
  keyPattern?: Record<string, unknown>;
}

/** Recognised by shape, not `instanceof`: the driver may be another copy than ours. */
function isDuplicateKey(error: unknown): error is DuplicateKeyError {
  return error instanceof Error && (error as Partial<DuplicateKeyError>).code === DUPLICATE_KEY;
}

function duplicateField(error: DuplicateKeyError): DuplicateUserError['field'] {
  const keys = Object.keys(error.keyPattern ?? {});
  if (keys.includes('email') || error.message.includes('realm_email')) return 'email';
  if (keys.includes('userId') || error.message.includes('realm_userId')) return 'id';
  return 'username';
}
