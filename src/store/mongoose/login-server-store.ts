import { Schema } from 'mongoose';
import type { Connection } from 'mongoose';
import { translate } from './limits';

interface LoginServerDocument {
  /** The realm: one document per realm. */
  _id: string;
  clientId?: string | undefined;
  lastCallAt: Date;
}

const loginServerSchema = new Schema<LoginServerDocument>(
  { _id: { type: String, required: true }, clientId: String, lastCallAt: { type: Date, required: true } },
  { collection: 'login_servers', versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false },
);

/** When a login server (Keycloak's provider, an Auth0 custom database) last called login-check, per realm. */
export interface LoginServerStore {
  init(): Promise<void>;
  /** Note a call: one upsert. */
  called(realm: string, clientId: string | undefined, at: Date): Promise<void>;
  /** The last call's time in the realm, or `undefined` when no login server ever called. */
  lastCall(realm: string): Promise<Date | undefined>;
}

/** `login_servers`: a document per realm, shared by every instance. */
export function createMongooseLoginServerStore(connection: Connection): LoginServerStore {
  const servers = connection.model<LoginServerDocument>('PasswordResourcesLoginServer', loginServerSchema);
  return {
    init: () =>
      translate(async () => {
        await servers.createCollection();
      }),
    called: (realm, clientId, at) =>
      translate(async () => {
        await servers.replaceOne({ _id: realm }, { ...(clientId === undefined ? {} : { clientId }), lastCallAt: at }, { upsert: true }).exec();
      }),
    lastCall: (realm) =>
      translate(async () => {
        const doc = await servers.findById(realm).lean<LoginServerDocument>().exec();
        return doc?.lastCallAt;
      }),
  };
}
