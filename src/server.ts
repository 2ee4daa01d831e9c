import { createServer } from 'node:http';
import type { Server } from 'node:http';
import pino from 'pino';
import type { Logger } from 'pino';
import { createApp } from './app';
import type { ServerConfig } from './config/env';
import { startMongoServer } from './db/mongo-server';
import { createPasswordResources } from './index';

/** How long a shutdown waits for in-flight requests before closing them. */
const SHUTDOWN_GRACE_MS = 10_000;

/** A running standalone server. */
export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Stop accepting, finish in-flight requests (up to a bound), release the database. */
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stop accepting and let in-flight requests finish, for at most `SHUTDOWN_GRACE_MS`. */
async function stopAccepting(server: Server, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  // A keep-alive connection with no request in flight would hold close() open until it
  // times out; in-flight ones become idle when their response ends, so sweep until closed.
  server.closeIdleConnections();
  const sweep = setInterval(() => {
    server.closeIdleConnections();
  }, 100);
  const timer = setTimeout(() => {
    logger.warn('shutdown grace period over: closing remaining connections');
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  await closed;
  clearInterval(sweep);
  clearTimeout(timer);
}

/**
 * Start the standalone server: the only place that listens. Without
 * `MONGODB_URI` it starts an embedded ephemeral database and says so.
 */
export async function startServer(config: ServerConfig, logger: Logger = pino({ level: config.logLevel })): Promise<RunningServer> {
  const database = await startMongoServer({
    env: { ...process.env, MONGODB_URI: config.mongodbUri ?? '' },
    log: (line) => {
      logger.info(line);
    },
  });
  if (database.kind !== 'MONGODB_URI') logger.warn('the embedded database is ephemeral: its data is lost when the server stops (set MONGODB_URI for a real database)');
  const resources = createPasswordResources({ ...config.resources, mongodbUri: database.uri, logger });
  try {
    await resources.ready();
  } catch (error) {
    await resources.close();
    await database.stop();
    throw error;
  }
  const app = createApp(resources, logger);
  const server = createServer(app);
  await listen(server, config.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // An embedded database's URI has no secret and lets the CLI reach it; a given MONGODB_URI may hold a password.
  const databaseUri = database.kind === 'MONGODB_URI' ? undefined : database.uri;
  logger.info(
    { port, realms: Object.keys(config.resources.realms), database: database.kind, databaseUri, hashQueue: config.resources.hashQueue, threadpool: process.env.UV_THREADPOOL_SIZE },
    'password-resources listening',
  );

  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    close() {
      closing ??= (async () => {
        await stopAccepting(server, logger);
        await resources.close();
        await database.stop();
        logger.info('password-resources stopped');
      })();
      return closing;
    },
  };
}
