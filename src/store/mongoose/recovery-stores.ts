import { Schema } from 'mongoose';
import type { Connection } from 'mongoose';
import type { ActionToken, ActionTokenStore, RateLimiter } from '../../domain/recovery';
import { translate } from './limits';

interface ActionTokenDocument {
  realm: string;
  userId: string;
  kind: string;
  hash: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date | undefined;
  attempts: number;
  redirectUri?: string | undefined;
  markEmailVerified?: boolean | undefined;
  includeEmail?: boolean | undefined;
}

const actionTokenSchema = new Schema<ActionTokenDocument>(
  {
    realm: { type: String, required: true },
    userId: { type: String, required: true },
    kind: { type: String, required: true },
    hash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: Date,
    attempts: { type: Number, required: true },
    redirectUri: String,
    markEmailVerified: Boolean,
    includeEmail: Boolean,
  },
  { collection: 'action_tokens', versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false },
);
// One token per user: issuing replaces it, so only the latest works.
actionTokenSchema.index({ realm: 1, userId: 1 }, { unique: true, name: 'realm_user' });
actionTokenSchema.index({ realm: 1, hash: 1 }, { unique: true, name: 'realm_hash' });
// Gone a day after it expired; until then an old link can still be told apart as expired.
actionTokenSchema.index({ expiresAt: 1 }, { name: 'expires_ttl', expireAfterSeconds: 86_400 });

interface RateLimitDocument {
  _id: string;
  count: number;
  expiresAt: Date;
}

const rateLimitSchema = new Schema<RateLimitDocument>(
  { _id: { type: String, required: true }, count: { type: Number, required: true }, expiresAt: { type: Date, required: true } },
  { collection: 'rate_limits', versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false },
);
rateLimitSchema.index({ expiresAt: 1 }, { name: 'expires_ttl', expireAfterSeconds: 0 });

function toToken(doc: ActionTokenDocument): ActionToken {
  return {
    realm: doc.realm,
    userId: doc.userId,
    kind: doc.kind === 'code' ? 'code' : 'link',
    hash: doc.hash,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt,
    attempts: doc.attempts,
    ...(doc.usedAt == null ? {} : { usedAt: doc.usedAt }),
    ...(doc.redirectUri == null ? {} : { redirectUri: doc.redirectUri }),
    ...(doc.markEmailVerified == null ? {} : { markEmailVerified: doc.markEmailVerified }),
    ...(doc.includeEmail == null ? {} : { includeEmail: doc.includeEmail }),
  };
}

/** Action tokens in `action_tokens`: hashes only, one per user, removed by TTL a day after expiry. */
export function createMongooseActionTokenStore(connection: Connection): ActionTokenStore {
  const tokens = connection.model<ActionTokenDocument>('PasswordResourcesActionToken', actionTokenSchema);
  return {
    init: () =>
      translate(async () => {
        await tokens.createCollection();
        await tokens.createIndexes();
      }),
    issue: (token) =>
      translate(async () => {
        // replaceOne with upsert: one atomic write that puts this token in the place of any earlier one.
        await tokens.collection.replaceOne({ realm: token.realm, userId: token.userId }, { ...token }, { upsert: true });
      }),
    findByHash: (realm, hash) =>
      translate(async () => {
        const doc = await tokens.findOne({ realm, hash }).lean<ActionTokenDocument>().exec();
        return doc ? toToken(doc) : null;
      }),
    findForUser: (realm, userId) =>
      translate(async () => {
        const doc = await tokens.findOne({ realm, userId }).lean<ActionTokenDocument>().exec();
        return doc ? toToken(doc) : null;
      }),
    markUsed: (realm, hash, at) =>
      translate(async () => {
        const result = await tokens.updateOne({ realm, hash, usedAt: { $exists: false } }, { $set: { usedAt: at } }).exec();
        return result.modifiedCount === 1;
      }),
    countAttempt: (realm, hash) =>
      translate(async () => {
        const doc = await tokens.findOneAndUpdate({ realm, hash }, { $inc: { attempts: 1 } }, { returnDocument: 'after' }).lean<ActionTokenDocument>().exec();
        return doc?.attempts ?? Number.POSITIVE_INFINITY;
      }),
  };
}

/**
 * Fixed-window counters in `rate_limits`, one document per key and window,
 * removed by TTL when the window ends; `$inc` with upsert is atomic, so every
 * instance counts into the same window.
 */
export function createMongooseRateLimiter(connection: Connection): RateLimiter & { init(): Promise<void> } {
  const limits = connection.model<RateLimitDocument>('PasswordResourcesRateLimit', rateLimitSchema);
  return {
    init: () =>
      translate(async () => {
        await limits.createCollection();
        await limits.createIndexes();
      }),
    hit: (key, limit, windowSeconds, now) =>
      translate(async () => {
        const windowMs = windowSeconds * 1000;
        const start = Math.floor(now.getTime() / windowMs) * windowMs;
        const expiresAt = new Date(start + windowMs);
        const doc = await limits
          .findOneAndUpdate({ _id: `${key}@${start}` }, { $inc: { count: 1 }, $setOnInsert: { expiresAt } }, { upsert: true, returnDocument: 'after' })
          .lean<RateLimitDocument>()
          .exec();
        if (doc.count <= limit) return undefined;
        return Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000));
      }),
  };
}
