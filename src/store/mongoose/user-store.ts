import { Schema } from 'mongoose';
import type { Connection, Model, Types } from 'mongoose';
import type { DatabaseBudget } from '../../domain/database-budget';
import { DuplicateUserError, StoreUnavailableError } from '../../domain/store';
import type { AttemptRequest, AttemptReservation, BulkInsertResult, Credential, CredentialChange, CredentialRehash, FieldMatch, LoginFailures, NewUser, UserAttributes, UserFilter, UserRecord, UserStore } from '../../domain/store';
import { limited, translate } from './limits';
import type { QueryLimit } from './limits';

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
  attributes?: AttributeDocument[] | undefined;
  enabled: boolean;
  credential?: CredentialDocument | undefined;
  previousCredentials?: CredentialDocument[] | undefined;
  passwordChangedAt?: Date | undefined;
  requiredActions: string[];
  loginFailures?: LoginFailuresDocument | undefined;
  /** Held by the one request changing the password now (`AccountService.changePassword`). */
  changeLease?: { id: string; until: Date } | undefined;
  createdAt: Date;
}

/** One attribute: a list of pairs rather than an object, since Keycloak's attribute names may hold "." or "$". */
interface AttributeDocument {
  name: string;
  values: string[];
}

interface LoginFailuresDocument {
  count: number;
  lastFailureAt?: Date | undefined;
  /** The failure before `lastFailureAt`, kept by the reserving write itself (see `reserveByWrite`). */
  previousFailureAt?: Date | undefined;
  lockedUntil?: Date | undefined;
  temporaryLockouts?: number | undefined;
  remaining?: number | undefined;
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
    attributes: { type: [new Schema<AttributeDocument>({ name: { type: String, required: true }, values: { type: [String], default: [] } }, { _id: false })], default: undefined },
    enabled: { type: Boolean, required: true },
    credential: { type: credentialSchema },
    previousCredentials: { type: [credentialSchema], default: undefined },
    passwordChangedAt: { type: Date },
    requiredActions: { type: [String], default: [] },
    loginFailures: {
      type: new Schema<LoginFailuresDocument>(
        { count: { type: Number, required: true }, lastFailureAt: Date, previousFailureAt: Date, lockedUntil: Date, temporaryLockouts: Number, remaining: Number },
        { _id: false },
      ),
    },
    changeLease: { type: new Schema({ id: { type: String, required: true }, until: { type: Date, required: true } }, { _id: false }) },

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

function toLoginFailures(doc: LoginFailuresDocument): LoginFailures {
  return {
    count: doc.count,
    lastFailureAt: doc.lastFailureAt ?? undefined,
    lockedUntil: doc.lockedUntil ?? undefined,
    temporaryLockouts: doc.temporaryLockouts ?? 0,
    remaining: doc.remaining ?? undefined,
  };
}

/** How many times `reserveAttempt` reads again after another instance changed the series first. */
const RESERVATION_ROUNDS = 32;

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
    attributes: fromAttributeDocuments(doc.attributes),
    enabled: doc.enabled,
    credential: doc.credential ? toCredential(doc.credential) : undefined,
    previousCredentials: (doc.previousCredentials ?? []).map(toCredential),
    passwordChangedAt: doc.passwordChangedAt ?? undefined,
    requiredActions: [...doc.requiredActions],
    loginFailures: doc.loginFailures ? toLoginFailures(doc.loginFailures) : undefined,
    createdAt: doc.createdAt,
  };
}

function toAttributeDocuments(attributes: UserAttributes): AttributeDocument[] {
  return Object.entries(attributes).map(([name, values]) => ({ name, values: [...values] }));
}

function fromAttributeDocuments(docs: readonly AttributeDocument[] | undefined): UserAttributes {
  const attributes: Record<string, readonly string[]> = {};
  // Object.defineProperty: an attribute named "__proto__" stays an attribute.
  for (const { name, values } of docs ?? []) Object.defineProperty(attributes, name, { value: [...values], enumerable: true, writable: true, configurable: true });
  return attributes;
}

/** The document of a new user. */
function toDocument(user: NewUser, now: Date): UserDocument {
  const attributes = user.attributes === undefined ? [] : toAttributeDocuments(user.attributes);
  return {
    realm: user.realm,
    userId: user.id,
    username: user.username,
    email: user.email,
    ...(user.emailVerified === true ? { emailVerified: true } : {}),
    ...(user.firstName === undefined ? {} : { firstName: user.firstName }),
    ...(user.lastName === undefined ? {} : { lastName: user.lastName }),
    ...(user.locale === undefined ? {} : { locale: user.locale }),
    ...(attributes.length === 0 ? {} : { attributes }),
    enabled: user.enabled,
    credential: user.credential,
    ...(user.previousCredentials === undefined || user.previousCredentials.length === 0 ? {} : { previousCredentials: [...user.previousCredentials] }),
    requiredActions: [...user.requiredActions],
    createdAt: user.createdAt ?? now,
  };
}

/** Runs one operation within the request's budget (or the store's own limit), giving it the server-side limit. */
type Run = <T>(work: (limit: QueryLimit) => Promise<T>) => Promise<T>;

/** A conditional write's filter for a user, or `null` for an unknown user. */
type Keyed = (realm: string, id: string, condition: Readonly<Record<string, unknown>>, limit: QueryLimit) => Promise<Record<string, unknown> | null>;

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
  return async (realm, id, condition, limit) => {
    const doc = await users.collection.findOne({ realm, userId: id }, { projection: { _id: 1 }, ...limit });
    return doc ? { _id: doc._id, ...condition } : null;
  };
}

/** Indexes at start, and the readiness probe. */
function health(connection: Connection, users: Model<UserDocument>, run: Run): Pick<UserStore, 'init' | 'ping'> {
  return {
    // Index builds take what they take (once, at start), not one request's time.
    init: () => translate(async () => {
      await users.createCollection();
      await users.createIndexes();
    }),

    ping: () =>
      run(async () => {
        const db = connection.db;
        if (!db) throw new StoreUnavailableError();
        await db.command({ ping: 1 });
      }),
  };
}

/** Reading users: by id, by username, by filter. */
function lookups(users: Model<UserDocument>, run: Run, ids: DocumentIds): Pick<UserStore, 'findById' | 'findByUsername' | 'find' | 'count'> {
  return {
    // The driver's own findOne (what mongoose's lean query comes down to, without building a query per request); every request reads here.
    findById: (realm, id) =>
      run(async (limit) => {
        const doc = await users.collection.findOne<UserDocument & { _id: Types.ObjectId }>({ realm, userId: id }, limit);
        if (!doc) return null;
        ids.set(realm, id, doc._id);
        return toRecord(doc);
      }),

    findByUsername: (realm, username) =>
      run(async (limit) => {
        const doc = await users.findOne({ realm, username }).lean<UserDocument>().setOptions(limit).exec();
        return doc ? toRecord(doc) : null;
      }),

    find: (realm, filter, page) =>
      run(async (limit) => {
        const docs = await users.find(toQuery(realm, filter)).sort({ username: 1 }).skip(page.first).limit(page.max).lean<UserDocument[]>().setOptions(limit).exec();
        return docs.map(toRecord);
      }),

    count: (realm, filter) => run((limit) => users.countDocuments(toQuery(realm, filter)).setOptions(limit).exec()),
  };
}

/** A new user; a taken username, email or id is a `DuplicateUserError`. */
function creation(users: Model<UserDocument>, run: Run): Pick<UserStore, 'create' | 'insertMany' | 'existingIds'> {
  return {
    create: (user: NewUser) =>
      run(async (limit) => {
        const doc = toDocument(user, new Date());
        try {
          await users.collection.insertOne({ ...doc }, { ...limit });
        } catch (error) {
          if (isDuplicateKey(error)) {
            throw new DuplicateUserError(duplicateField(error));
          }
          throw error;
        }
        return toRecord(doc);
      }),

    // An import's batches are not a request's work: they take the driver's timeouts, not a request's budget.
    insertMany: (batch) =>
      translate(async (): Promise<BulkInsertResult> => {
        if (batch.length === 0) return { inserted: 0, duplicates: [] };
        const now = new Date();
        try {
          // Unordered: one taken username does not stop the users after it.
          const result = await users.collection.insertMany(batch.map((user) => toDocument(user, now)), { ordered: false });
          return { inserted: result.insertedCount, duplicates: [] };
        } catch (error) {
          const failed = bulkWriteErrors(error);
          if (!failed) throw error;
          const duplicates: { index: number; field: DuplicateUserError['field'] }[] = [];
          for (const writeError of failed.errors) {
            // Anything but a duplicate is not the user's problem: the batch fails, the inserted users stay.
            if (writeError.code !== DUPLICATE_KEY) throw error;
            duplicates.push({ index: writeError.index, field: duplicateField(writeError) });
          }
          return { inserted: failed.inserted, duplicates };
        }
      }),

    existingIds: (realm, ids) =>
      translate(async () => {
        const docs = await users.collection.find({ realm, userId: { $in: [...ids] } }, { projection: { _id: 0, userId: 1 } }).toArray();
        return new Set(docs.map((doc) => String(doc.userId)));
      }),
  };
}

/** An admin's changes to a user's fields, and deletion. */
function edits(connection: Connection, users: Model<UserDocument>, run: Run): Pick<UserStore, 'update' | 'delete'> {
  return {
    update: (realm, id, patch) =>
      run(async (limit) => {
        const set: Record<string, unknown> = {};
        const unset: Record<string, ''> = {};
        for (const field of ['username', 'email', 'emailVerified', 'firstName', 'lastName', 'locale', 'enabled', 'requiredActions'] as const) {
          const value = patch[field];
          if (value === null) unset[field] = '';
          else if (value !== undefined) set[field] = Array.isArray(value) ? [...(value as string[])] : value;
        }
        if (patch.attributes !== undefined) {
          const attributes = toAttributeDocuments(patch.attributes);
          if (attributes.length > 0) set.attributes = attributes;
          else unset.attributes = '';
        }
        if (patch.clearFailures === true) unset.loginFailures = '';
        try {
          if (patch.username !== undefined || patch.email !== undefined) {
            const rekeyed = await rekey(connection, users, realm, id, set, unset, limit);
            if (rekeyed !== 'no transactions') return rekeyed ? toRecord(rekeyed) : null;
          }
          const doc = await users
            .findOneAndUpdate({ realm, userId: id }, { ...(Object.keys(set).length > 0 ? { $set: set } : {}), ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) }, { returnDocument: 'after' })
            .lean<UserDocument>()
            .setOptions(limit).exec();
          return doc ? toRecord(doc) : null;
        } catch (error) {
          if (isDuplicateKey(error)) throw new DuplicateUserError(duplicateField(error));
          throw error;
        }
      }),

    delete: (realm, id) =>
      run(async (limit) => {
        const result = await users.deleteOne({ realm, userId: id }).setOptions(limit).exec();
        return result.deletedCount === 1;
      }),
  };
}

/** Password changes: each a compare-and-set on the credential it replaces. */
function credentials(users: Model<UserDocument>, keyed: Keyed, run: Run): Pick<UserStore, 'compareAndSetCredential' | 'rehashCredential' | 'removeCredential' | 'recordPasswordChange'> {
  return {
    compareAndSetCredential: (change: CredentialChange) =>
      run(async (limit) => {
        // The compare: the credential this change replaces must still be there.
        const filter = await keyed(change.realm, change.id, { 'credential.hash': change.expectedHash }, limit);
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
          .setOptions(limit).exec();
        return result.modifiedCount === 1;
      }),

    rehashCredential: (rehash: CredentialRehash) =>
      run(async (limit) => {
        const filter = await keyed(rehash.realm, rehash.id, { 'credential.hash': rehash.expectedHash }, limit);
        if (!filter) return false;
        const result = await users.updateOne(filter, { $set: { credential: rehash.next } }).setOptions(limit).exec();
        return result.modifiedCount === 1;
      }),

    removeCredential: (realm, id, expectedHash, changedAt) =>
      run(async (limit) => {
        const filter = await keyed(realm, id, { 'credential.hash': expectedHash }, limit);
        if (!filter) return false;
        const result = await users.updateOne(filter, { $unset: { credential: '', previousCredentials: '' }, $set: { passwordChangedAt: changedAt } }).setOptions(limit).exec();
        return result.modifiedCount === 1;
      }),

    recordPasswordChange: (realm, id, changedAt, requiredActions) =>
      run(async (limit) => {
        // $max: of two changes recorded out of order, the later one stays.
        const result = await users.updateOne({ realm, userId: id }, { $max: { passwordChangedAt: changedAt }, $set: { requiredActions: [...requiredActions] } }).setOptions(limit).exec();
        return result.matchedCount === 1;
      }),
  };
}

/**
 * Document `_id`s by realm and user id, of the users read lately (a bounded,
 * oldest-first forgotten map): a reservation writes by `_id` (see
 * `keyedFilter`), so with the `_id` known, and the series the request read,
 * a guess is reserved in one round trip instead of two. An `_id` never
 * changes; a user deleted and made again has a new one, which a write by the
 * old one misses, and the reservation then reads afresh.
 */
class DocumentIds {
  readonly #ids = new Map<string, Types.ObjectId>();

  constructor(private readonly max: number) {}

  get(realm: string, id: string): Types.ObjectId | undefined {
    return this.#ids.get(`${realm}\u0000${id}`);
  }

  set(realm: string, id: string, _id: Types.ObjectId): void {
    const key = `${realm}\u0000${id}`;
    this.#ids.delete(key);
    this.#ids.set(key, _id);
    if (this.#ids.size > this.max) this.#ids.delete(this.#ids.keys().next().value ?? key);
  }
}

/** Users whose `_id` is kept: a few MB at most, more than the users a busy instance sees within a minute. */
const DOCUMENT_IDS_KEPT = 10_000;

/**
 * The conditional write that reserves a guess when the series is as `state`
 * says: none yet (the first guess makes it), or one with guesses left. The
 * reservation, or `undefined` when the series is otherwise (locked, spent,
 * stale, written before reservations) or another request's write came first.
 */
async function reserveByWrite(users: Model<UserDocument>, _id: Types.ObjectId, state: LoginFailuresDocument | undefined, request: AttemptRequest, limit: QueryLimit): Promise<AttemptReservation | undefined> {
  const { now, budget } = request;
  if (state === undefined) {
    // The first guess of a series makes it, unless a concurrent one did.
    const made = await users.collection.updateOne({ _id, loginFailures: null }, { $set: { loginFailures: { count: 1, lastFailureAt: now, remaining: budget - 1, temporaryLockouts: 0 } } }, limit);
    return made.modifiedCount === 1 ? { kind: 'reserved', failure: { count: 1, previousFailureAt: undefined, temporaryLockouts: 0 } } : undefined;
  }
  return hasGuessLeft(state, request) ? takeFromSeries(users, _id, request, limit) : undefined;
}

/** Whether a series, as read, has a guess to take: not locked, not too old, written with reservations, some left. */
function hasGuessLeft(state: LoginFailuresDocument, { now, resetBefore }: AttemptRequest): boolean {
  const stale = state.lastFailureAt !== undefined && state.lastFailureAt < resetBefore;
  return !((state.lockedUntil !== undefined && state.lockedUntil > now) || stale || state.remaining === undefined || state.remaining <= 0);
}

/** One guess taken from a series with guesses left, not locked and not too old; `undefined` when the series is otherwise, or absent. */
async function takeFromSeries(users: Model<UserDocument>, _id: Types.ObjectId, request: AttemptRequest, limit: QueryLimit): Promise<AttemptReservation | undefined> {
  const { now, resetBefore } = request;
  // The answer is the document after this write, and the write itself keeps the failure before it: the
  // image before a write is not what other requests' concurrent writes left on every MongoDB-compatible
  // server (SecantusDB hands two writers the same one), while the image after is.
  const after = await users.collection.findOneAndUpdate(
    { _id, 'loginFailures.remaining': { $gt: 0 }, 'loginFailures.lockedUntil': { $not: { $gt: now } }, 'loginFailures.lastFailureAt': { $gte: resetBefore } },
    [
      {
        $set: {
          'loginFailures.count': { $add: ['$loginFailures.count', 1] },
          'loginFailures.remaining': { $add: ['$loginFailures.remaining', -1] },
          'loginFailures.previousFailureAt': '$loginFailures.lastFailureAt',
          'loginFailures.lastFailureAt': now,
        },
      },
    ],
    { returnDocument: 'after', projection: { loginFailures: 1 }, ...limit },
  );
  const series = (after as { loginFailures?: LoginFailuresDocument | null } | null)?.loginFailures ?? undefined;
  return series ? { kind: 'reserved', failure: { count: series.count, previousFailureAt: series.previousFailureAt ?? undefined, temporaryLockouts: series.temporaryLockouts ?? 0 } } : undefined;
}

/**
 * One guess taken from the user's budget in one conditional write, tried
 * first on the series the caller read when the user's `_id` is known; a
 * series missing, too old or written before reservations is made or mended
 * first, each by a write that another request may win (then it reads again).
 */
function reservations(users: Model<UserDocument>, run: Run, ids: DocumentIds): UserStore['reserveAttempt'] {
  return (realm, id, request) =>
    run(async (limit): Promise<AttemptReservation | null> => {
      const { now, resetBefore, budget, known } = request;
      const cached = known === undefined ? undefined : ids.get(realm, id);
      if (known !== undefined && cached !== undefined) {
        const reserved = await reserveByWrite(users, cached, known.failures, request, limit);
        if (reserved) return reserved;
        // A write that missed: another request changed the series since it was read, most often by making it
        // (then take from it) or by clearing it (then make it). That write first, as conditional as the other,
        // before reading again. A series read as locked, spent or old was not written to: read it again.
        const other =
          known.failures === undefined
            ? await takeFromSeries(users, cached, request, limit)
            : hasGuessLeft(known.failures, request)
              ? await reserveByWrite(users, cached, undefined, request, limit)
              : undefined;
        if (other) return other;
      }
      type Found = { _id: Types.ObjectId; loginFailures?: LoginFailuresDocument | null };
      const read = async (filter: Record<string, unknown>): Promise<Found | null> => users.collection.findOne<Found>(filter, { projection: { _id: 1, loginFailures: 1 }, ...limit });
      const first = await read({ realm, userId: id });
      if (!first) return null;
      const _id = first._id;
      ids.set(realm, id, _id);
      let state = first.loginFailures ?? undefined;
      // Each round either reserves, answers, or lost to a write of another request, which it reads again.
      for (let round = 0; round < RESERVATION_ROUNDS; round++) {
        if (state?.lockedUntil !== undefined && state.lockedUntil > now) return { kind: 'locked', until: state.lockedUntil };
        const stale = state?.lastFailureAt !== undefined && state.lastFailureAt < resetBefore;
        if (state !== undefined && (stale || state.remaining === undefined)) {
          // A series too old to count starts again; one written before reservations gets the budget it has left.
          const remaining = stale ? budget : Math.max(budget - state.count, 0) || budget;
          await users.collection.updateOne(
            { _id, 'loginFailures.count': state.count, 'loginFailures.lastFailureAt': state.lastFailureAt ?? null },
            { $set: { 'loginFailures.remaining': remaining, ...(stale ? { 'loginFailures.count': 0 } : {}) } },
            limit,
          );
        } else if (state?.remaining !== undefined && state.remaining <= 0) {
          return { kind: 'exhausted', failures: toLoginFailures(state) };
        } else {
          const reserved = await reserveByWrite(users, _id, state, request, limit);
          if (reserved) return reserved;
        }
        const again = await read({ _id });
        if (!again) return null;
        state = again.loginFailures ?? undefined;
      }
      throw new Error(`the login failures of user ${id} in realm ${realm} changed ${RESERVATION_ROUNDS} times while one guess was reserved`);
    });
}

/** Brute force detection's counters and lockouts, and the password-change lease, each one atomic write. */
function failures(users: Model<UserDocument>, keyed: Keyed, run: Run, ids: DocumentIds): Pick<UserStore, 'reserveAttempt' | 'releaseAttempt' | 'refillAttempts' | 'lockTemporarily' | 'takeChangeLease' | 'releaseChangeLease' | 'disable' | 'clearFailures'> {
  return {
    reserveAttempt: reservations(users, run, ids),

    releaseAttempt: (realm, id, count) =>
      run(async (limit) => {
        const filter = await keyed(realm, id, { 'loginFailures.count': { $gte: count } }, limit);
        if (!filter) return;
        await users.collection.updateOne(filter, { $inc: { 'loginFailures.count': -1, 'loginFailures.remaining': 1 } }, limit);
      }),

    refillAttempts: (realm, id, lastFailureAt, budget) =>
      run(async (limit) => {
        const filter = await keyed(realm, id, { 'loginFailures.lastFailureAt': lastFailureAt, 'loginFailures.remaining': { $lte: 0 } }, limit);
        if (!filter) return;
        await users.collection.updateOne(filter, { $set: { 'loginFailures.remaining': budget } }, limit);
      }),

    lockTemporarily: (realm, id, lock) =>
      run(async (limit) => {
        // A right password cleared the series meanwhile: the failure it held no longer counts, nor locks.
        const filter = await keyed(realm, id, { 'loginFailures.count': { $gte: lock.count } }, limit);
        if (!filter) return;
        await users.collection.updateOne(filter, {
          $max: { 'loginFailures.lockedUntil': lock.until },
          ...(lock.counts ? { $inc: { 'loginFailures.temporaryLockouts': 1 }, $set: { 'loginFailures.remaining': lock.budget } } : {}),
        }, limit);
      }),

    takeChangeLease: (realm, id, lease, now, until) =>
      run(async (limit) => {
        const filter = await keyed(realm, id, { $or: [{ changeLease: null }, { 'changeLease.until': { $lte: now } }] }, limit);
        if (!filter) return false;
        const result = await users.collection.updateOne(filter, { $set: { changeLease: { id: lease, until } } }, limit);
        return result.modifiedCount === 1;
      }),

    releaseChangeLease: (realm, id, lease) =>
      run(async (limit) => {
        const filter = await keyed(realm, id, { 'changeLease.id': lease }, limit);
        if (!filter) return;
        await users.collection.updateOne(filter, { $unset: { changeLease: '' } }, limit);
      }),

    disable: (realm, id) =>
      run(async (limit) => {
        await users.updateOne({ realm, userId: id }, { $set: { enabled: false } }).setOptions(limit).exec();
      }),

    clearFailures: (realm, id) =>
      run(async (limit) => {
        // Keyed on the index alone (one round trip); unsetting an absent field writes nothing.
        await users.collection.updateOne({ realm, userId: id }, { $unset: { loginFailures: '' } }, limit);
      }),
  };
}

/**
 * The shipped `UserStore`: one `users` collection on the connection given.
 * Models live on that connection, never on mongoose's global one. Each
 * operation takes at most what is left of the request's budget, for the store
 * `within` returns, else at most `timeoutMs` when given.
 */
export function createMongooseUserStore(connection: Connection, options: { readonly timeoutMs?: number } = {}): UserStore {
  const users: Model<UserDocument> = connection.model<UserDocument>('PasswordResourcesUser', userSchema);
  const keyed = keyedFilter(users);
  const ids = new DocumentIds(DOCUMENT_IDS_KEPT);
  const storeWithin = (budget: DatabaseBudget | undefined): UserStore => {
    const run: Run = (work) => limited(budget, options.timeoutMs, work);
    return {
      ...health(connection, users, run),
      ...lookups(users, run, ids),
      ...creation(users, run),
      ...edits(connection, users, run),
      ...credentials(users, keyed, run),
      ...failures(users, keyed, run, ids),
      within: (next) => storeWithin(next),
    };
  };
  return storeWithin(undefined);
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
  limit: QueryLimit,
): Promise<UserDocument | null | 'no transactions'> {
  const session = await connection.startSession();
  try {
    let after: UserDocument | null = null;
    await session.withTransaction(async () => {
      const before = await users.collection.findOne({ realm, userId: id }, { session, ...limit });
      if (!before) return;
      const changed: Record<string, unknown> = { ...before, ...set };
      for (const field of Object.keys(unset)) Reflect.deleteProperty(changed, field);
      await users.collection.deleteOne({ _id: before._id }, { session, ...limit });
      await users.collection.insertOne(changed, { session, ...limit });
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

interface DuplicateKeyError {
  code: typeof DUPLICATE_KEY;
  keyPattern?: Record<string, unknown>;
  message: string;
}

/** One failed insert of an unordered `insertMany`: its position in the batch. */
interface WriteError {
  index: number;
  code: unknown;
  keyPattern?: Record<string, unknown>;
  message: string;
}

/** The driver's MongoBulkWriteError, recognised by shape: the inserts that failed, and how many went in. */
function bulkWriteErrors(error: unknown): { errors: WriteError[]; inserted: number } | undefined {
  if (!(error instanceof Error) || error.name !== 'MongoBulkWriteError') return undefined;
  const bulk = error as Error & { writeErrors?: unknown; insertedCount?: unknown; result?: { insertedCount?: unknown } };
  const raw = Array.isArray(bulk.writeErrors) ? (bulk.writeErrors as unknown[]) : bulk.writeErrors === undefined ? [] : [bulk.writeErrors];
  const errors = raw.map((item) => {
    const e = item as { index?: unknown; code?: unknown; errmsg?: unknown; err?: { keyPattern?: Record<string, unknown> }; keyPattern?: Record<string, unknown> };
    return { index: Number(e.index), code: e.code, keyPattern: e.keyPattern ?? e.err?.keyPattern, message: typeof e.errmsg === 'string' ? e.errmsg : '' };
  });
  return { errors, inserted: Number(bulk.insertedCount ?? bulk.result?.insertedCount ?? 0) };
}

/** Recognised by shape, not `instanceof`: the driver may be another copy than ours. */
function isDuplicateKey(error: unknown): error is DuplicateKeyError & Error {
  return error instanceof Error && (error as Partial<DuplicateKeyError>).code === DUPLICATE_KEY;
}

function duplicateField(error: Pick<DuplicateKeyError, 'keyPattern' | 'message'>): DuplicateUserError['field'] {
  const keys = Object.keys(error.keyPattern ?? {});
  if (keys.includes('email') || error.message.includes('realm_email')) return 'email';
  if (keys.includes('userId') || error.message.includes('realm_userId')) return 'id';
  return 'username';
}
