import { Schema } from 'mongoose';
import type { Connection } from 'mongoose';
import type { AuditEvent } from '../../domain/events';

interface EventDocument {
  type: string;
  realm: string;
  userId: string;
  clientId?: string | undefined;
  ip?: string | undefined;
  time: Date;
  error?: string | undefined;
}

const eventSchema = new Schema<EventDocument>(
  {
    type: { type: String, required: true },
    realm: { type: String, required: true },
    userId: { type: String, required: true },
    clientId: String,
    ip: String,
    time: { type: Date, required: true },
    error: String,
  },
  { collection: 'events', versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false },
);
eventSchema.index({ realm: 1, userId: 1, time: -1 }, { name: 'realm_user_time' });

/** Audit events in the `events` collection, expired by a TTL index after `retentionSeconds`. */
export interface MongooseEventStore {
  init(): Promise<void>;
  insert(event: AuditEvent): Promise<void>;
}

const TTL_INDEX = 'time_ttl';

export function createMongooseEventStore(connection: Connection, options: { retentionSeconds: number }): MongooseEventStore {
  const schema = eventSchema.clone();
  schema.index({ time: 1 }, { name: TTL_INDEX, expireAfterSeconds: options.retentionSeconds });
  const events = connection.model<EventDocument>('PasswordResourcesEvent', schema);
  return {
    async init() {
      await events.createCollection();
      try {
        await events.createIndexes();
      } catch (error) {
        // Retention changed since the index was made: change the index in place (MongoDB's collMod).
        if ((error as { codeName?: string }).codeName !== 'IndexOptionsConflict') throw error;
        await connection.db?.command({ collMod: 'events', index: { name: TTL_INDEX, expireAfterSeconds: options.retentionSeconds } });
      }
    },
    async insert(event) {
      await events.collection.insertOne({ ...event });
    },
  };
}
