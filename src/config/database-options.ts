/** Options of the database: whose connection, its deadline, how long events are kept. */
import type { Connection } from 'mongoose';
import { DEFAULTS } from './defaults';
import { fail, integer } from './option-checks';

/** The service-wide database settings. */
export interface DatabaseOptions {
  /** A mongoose connection owned by the host; `close()` leaves it open. Give this or `mongodbUri`. */
  readonly connection?: Connection;
  /** A MongoDB URI; the router opens its own connection and `close()` closes it. */
  readonly mongodbUri?: string;
  /**
   * How long one request may wait on the database in all, in ms: each operation gets what is left,
   * then 503 with `Retry-After`. Also the limit of one operation outside a request (the CLI). Default: 2000.
   */
  readonly databaseTimeoutMs?: number;
  /** Days audit events are kept (a TTL index). Default: 90. */
  readonly eventRetentionDays?: number;
}

/** The database settings, checked and completed. */
export interface ResolvedDatabase {
  /** The host's connection, or the URI of one the router opens and closes. */
  readonly database: { readonly connection: Connection } | { readonly uri: string };
  readonly databaseTimeoutMs: number;
  readonly eventRetentionDays: number;
}

export function resolveDatabase(options: DatabaseOptions): ResolvedDatabase {
  if ((options.connection === undefined) === (options.mongodbUri === undefined)) {
    fail('options', 'give exactly one of "connection" (a mongoose Connection you own) or "mongodbUri"');
  }
  return {
    database: options.connection ? { connection: options.connection } : { uri: options.mongodbUri ?? '' },
    eventRetentionDays: integer('options.eventRetentionDays', options.eventRetentionDays, DEFAULTS.eventRetentionDays, 1, 3_650),
    databaseTimeoutMs: integer('options.databaseTimeoutMs', options.databaseTimeoutMs, DEFAULTS.databaseTimeoutMs, 100, 60_000),
  };
}
