import { Schema } from 'mongoose';
import type { Connection } from 'mongoose';
import type { AdminEvent, AdminEventQuery, AuditEvent, EventLog, EventQuery } from '../../domain/events';
import { groupCommit } from './group-commit';

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
eventSchema.index({ realm: 1, time: -1 }, { name: 'realm_time' });

interface AdminEventDocument {
  realm: string;
  time: Date;
  operationType: string;
  resourceType: string;
  resourcePath: string;
  actor: { userId: string; clientId?: string | undefined; ip?: string | undefined };
  error?: string | undefined;
}

const adminEventSchema = new Schema<AdminEventDocument>(
  {
    realm: { type: String, required: true },
    time: { type: Date, required: true },
    operationType: { type: String, required: true },
    resourceType: { type: String, required: true },
    resourcePath: { type: String, required: true },
    actor: { type: new Schema({ userId: { type: String, required: true }, clientId: String, ip: String }, { _id: false }), required: true },
    error: String,
  },
  { collection: 'admin_events', versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false },
);
adminEventSchema.index({ realm: 1, time: -1 }, { name: 'realm_time' });

/** Audit events in `events` and admin events in `admin_events`, each expired by a TTL index after `retentionSeconds`. */
export interface MongooseEventStore extends EventLog {
  init(): Promise<void>;
  insert(event: AuditEvent): Promise<void>;
  insertAdmin(event: AdminEvent): Promise<void>;
}

const TTL_INDEX = 'time_ttl';

/** At most this many events in one insert. */
const EVENT_BATCH = 256;

/** `from`..`to`, both inclusive, as a condition on `time`. */
function timeRange(from: Date | undefined, to: Date | undefined): Record<string, unknown> {
  if (from === undefined && to === undefined) return {};
  return { time: { ...(from ? { $gte: from } : {}), ...(to ? { $lte: to } : {}) } };
}

function toAuditEvent(doc: EventDocument): AuditEvent {
  return {
    type: doc.type as AuditEvent['type'],
    realm: doc.realm,
    userId: doc.userId,
    time: doc.time,
    ...(doc.clientId == null ? {} : { clientId: doc.clientId }),
    ...(doc.ip == null ? {} : { ip: doc.ip }),
    ...(doc.error == null ? {} : { error: doc.error }),
  };
}

function toAdminEvent(doc: AdminEventDocument): AdminEvent {
  return {
    realm: doc.realm,
    time: doc.time,
    operationType: doc.operationType as AdminEvent['operationType'],
    resourceType: doc.resourceType,
    resourcePath: doc.resourcePath,
    actor: {
      userId: doc.actor.userId,
      ...(doc.actor.clientId == null ? {} : { clientId: doc.actor.clientId }),
      ...(doc.actor.ip == null ? {} : { ip: doc.actor.ip }),
    },
    ...(doc.error == null ? {} : { error: doc.error }),
  };
}

export function createMongooseEventStore(connection: Connection, options: { retentionSeconds: number }): MongooseEventStore {
  const withTtl = <T>(base: Schema<T>): Schema<T> => {
    const schema = base.clone();
    schema.index({ time: 1 }, { name: TTL_INDEX, expireAfterSeconds: options.retentionSeconds });
    return schema;
  };
  const events = connection.model<EventDocument>('PasswordResourcesEvent', withTtl(eventSchema));
  const adminEvents = connection.model<AdminEventDocument>('PasswordResourcesAdminEvent', withTtl(adminEventSchema));
  const prepare = async (model: typeof events | typeof adminEvents, collection: string): Promise<void> => {
    await model.createCollection();
    try {
      await model.createIndexes();
    } catch (error) {
      // Retention changed since the index was made: change the index in place (MongoDB's collMod).
      if ((error as { codeName?: string }).codeName !== 'IndexOptionsConflict') throw error;
      await connection.db?.command({ collMod: collection, index: { name: TTL_INDEX, expireAfterSeconds: options.retentionSeconds } });
    }
  };
  // Under load many requests record an event at once: one insert stores a batch of them.
  const insertEvent = groupCommit<AuditEvent>(async (batch) => {
    await events.collection.insertMany(batch.map((event) => ({ ...event })));
  }, EVENT_BATCH);
  return {
    async init() {
      await prepare(events, 'events');
      await prepare(adminEvents, 'admin_events');
    },
    async insert(event) {
      await insertEvent(event);
    },
    async insertAdmin(event) {
      await adminEvents.collection.insertOne({ ...event, actor: { ...event.actor } });
    },
    async events(realm, query: EventQuery) {
      const filter = {
        realm,
        ...(query.types && query.types.length > 0 ? { type: { $in: [...query.types] } } : {}),
        ...(query.userId === undefined ? {} : { userId: query.userId }),
        ...(query.clientId === undefined ? {} : { clientId: query.clientId }),
        ...(query.ip === undefined ? {} : { ip: query.ip }),
        ...timeRange(query.from, query.to),
      };
      const docs = await events.find(filter).sort({ time: -1, _id: -1 }).skip(query.first).limit(query.max).lean<EventDocument[]>().exec();
      return docs.map(toAuditEvent);
    },
    async adminEvents(realm, query: AdminEventQuery) {
      const filter = {
        realm,
        ...(query.operationTypes && query.operationTypes.length > 0 ? { operationType: { $in: [...query.operationTypes] } } : {}),
        ...(query.resourceTypes && query.resourceTypes.length > 0 ? { resourceType: { $in: [...query.resourceTypes] } } : {}),
        ...(query.resourcePath === undefined ? {} : { resourcePath: query.resourcePath }),
        ...(query.authUserId === undefined ? {} : { 'actor.userId': query.authUserId }),
        ...(query.authClientId === undefined ? {} : { 'actor.clientId': query.authClientId }),
        ...(query.authIp === undefined ? {} : { 'actor.ip': query.authIp }),
        ...timeRange(query.from, query.to),
      };
      const docs = await adminEvents.find(filter).sort({ time: -1, _id: -1 }).skip(query.first).limit(query.max).lean<AdminEventDocument[]>().exec();
      return docs.map(toAdminEvent);
    },
  };
}
