import { Schema } from 'mongoose';
import type { Connection, Model } from 'mongoose';
import { DuplicateUserError, StoreUnavailableError } from '../../domain/store';
import type { Credential, CredentialChange, CredentialRehash, NewUser, UserRecord, UserStore } from '../../domain/store';

interface CredentialDocument {
  algorithm: Credential['algorithm'];
  hash: string;
  salt?: string | undefined;
  parameters?: Record<string, string | number> | undefined;
  createdAt: Date;
}

interface UserDocument {
  realm: string;
  userId: string;
  username: string;
  email?: string | undefined;
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
    algorithm: { type: String, required: true },
    hash: { type: String, required: true },
    salt: { type: String },
    parameters: { type: Schema.Types.Mixed },
    createdAt: { type: Date, required: true },
  },
  { _id: false },
);

const userSchema = new Schema<UserDocument>(
  {
    realm: { type: String, required: true },
    userId: { type: String, required: true },
    username: { type: String, required: true },
    email: { type: String },
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
    algorithm: doc.algorithm,
    hash: doc.hash,
    ...(doc.salt === undefined ? {} : { salt: doc.salt }),
    ...(doc.parameters === undefined ? {} : { parameters: { ...doc.parameters } }),
    createdAt: doc.createdAt,
  };
}

function toRecord(doc: UserDocument): UserRecord {
  return {
    realm: doc.realm,
    id: doc.userId,
    username: doc.username,
    email: doc.email ?? undefined,
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

async function translate<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isUnavailable(error)) throw new StoreUnavailableError({ cause: error });
    throw error;
  }
}

/**
 * The shipped `UserStore`: one `users` collection on the connection given.
 * Models live on that connection, never on mongoose's global one.
 */
export function createMongooseUserStore(connection: Connection): UserStore {
  const users: Model<UserDocument> = connection.model<UserDocument>('PasswordResourcesUser', userSchema);

  return {
    init: () => translate(async () => {
      await users.createCollection();
      await users.createIndexes();
    }),

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

    create: (user: NewUser) =>
      translate(async () => {
        const doc: UserDocument = {
          realm: user.realm,
          userId: user.id,
          username: user.username,
          email: user.email,
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

    compareAndSetCredential: (change: CredentialChange) =>
      translate(async () => {
        const result = await users
          .updateOne(
            // The compare: the credential this change replaces must still be there.
            { realm: change.realm, userId: change.id, 'credential.hash': change.expectedHash },
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
        const result = await users
          .updateOne({ realm: rehash.realm, userId: rehash.id, 'credential.hash': rehash.expectedHash }, { $set: { credential: rehash.next } })
          .exec();
        return result.modifiedCount === 1;
      }),

    recordFailure: (realm, id, now, resetBefore) =>
      translate(async () => {
        // A stale series starts again; both writes are atomic, so concurrent failures on any instance all count.
        await users.updateOne({ realm, userId: id, 'loginFailures.lastFailureAt': { $lt: resetBefore } }, { $set: { 'loginFailures.count': 0 } }).exec();
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
        await users.updateOne({ realm, userId: id, loginFailures: { $exists: true } }, { $unset: { loginFailures: '' } }).exec();
      }),

    ping: () =>
      translate(async () => {
        const db = connection.db;
        if (!db) throw new StoreUnavailableError();
        await db.command({ ping: 1 });
      }),
  };
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
