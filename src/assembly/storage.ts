import mongoose from 'mongoose';
import type { ConnectOptions, Connection } from 'mongoose';
import type { ActionTokenStore, RateLimiter } from '../domain/recovery';
import type { UserStore } from '../domain/store';
import { TemporarilyUnavailableError } from '../errors';
import type { ResolvedOptions } from '../options';
import { createMongooseEventStore } from '../store/mongoose/event-store';
import type { MongooseEventStore } from '../store/mongoose/event-store';
import { createMongooseActionTokenStore, createMongooseRateLimiter } from '../store/mongoose/recovery-stores';
import { createMongooseLoginServerStore } from '../store/mongoose/login-server-store';
import type { LoginServerStore } from '../store/mongoose/login-server-store';
import { createMongooseUserStore } from '../store/mongoose/user-store';
import { timedUserStore } from '../store/timed-user-store';
import type { Observability } from './observability';

/** The router's MongoDB collections, on one connection. */
export interface Storage {
  /** Users and their credentials, each operation timed into the metrics. */
  readonly users: UserStore;
  readonly events: MongooseEventStore;
  readonly actionTokens: ActionTokenStore;
  readonly rateLimiter: RateLimiter;
  /** When a login server last called login-check, per realm. */
  readonly loginServers: LoginServerStore;
  /** Connect and create the indexes, once; a failed attempt is retried by the next call. */
  readonly ready: () => Promise<void>;
  /** Close the connection if the router opened it; a host's connection stays open. */
  close(): Promise<void>;
}

/**
 * Fail closed, fast: mongoose does not queue commands while the database is
 * away, and every operation (server selection included) has a deadline, so a
 * database that stops answering turns into 503s, never into hanging requests.
 */
function connectionOptions(timeoutMs: number): ConnectOptions {
  // Requests stop waiting when their own budget runs out (store/mongoose/limits.ts); these bound what the driver keeps trying after.
  return { bufferCommands: false, serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs, socketTimeoutMS: timeoutMs };
}

type StorageOptions = Pick<ResolvedOptions, 'database' | 'databaseTimeoutMs' | 'eventRetentionDays'>;

/** The stores on the host's connection, or on one the router opens (lazily, in `ready`). */
export function assembleStorage({ database, databaseTimeoutMs, eventRetentionDays }: StorageOptions, { logger, observeDatabase }: Observability): Storage {
  const connection: Connection = 'connection' in database ? database.connection : mongoose.createConnection();
  const users = timedUserStore(createMongooseUserStore(connection, { timeoutMs: databaseTimeoutMs }), observeDatabase);
  const events = createMongooseEventStore(connection, { retentionSeconds: eventRetentionDays * 86_400 });
  const actionTokens = createMongooseActionTokenStore(connection);
  const rateLimiter = createMongooseRateLimiter(connection);
  const loginServers = createMongooseLoginServerStore(connection);

  let starting: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    starting ??= (async () => {
      if ('uri' in database && connection.readyState === mongoose.ConnectionStates.disconnected) {
        await connection.openUri(database.uri, connectionOptions(databaseTimeoutMs));
      }
      await connection.asPromise();
      await users.init();
      await events.init();
      await actionTokens.init();
      await rateLimiter.init();
      await loginServers.init();
    })().catch((error: unknown) => {
      starting = undefined;
      logger.error({ err: error }, 'password-resources cannot reach its database');
      throw new TemporarilyUnavailableError('The credential store is temporarily unavailable; retry later.', { cause: error });
    });
    return starting;
  };

  return {
    users,
    events,
    actionTokens,
    rateLimiter,
    loginServers,
    ready,
    async close() {
      if ('uri' in database) await connection.close();
    },
  };
}
