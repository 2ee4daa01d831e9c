import { startMongoServer } from '../../src/db/mongo-server';
import type { MongoServer } from '../../src/db/mongo-server';
import { markRun } from './processes';

declare global {
  var __passwordResourcesDb: MongoServer | undefined;
}

/** One real database server for the run; workers inherit its URI. */
export default async function globalSetup(): Promise<void> {
  // Before anything starts, so the database server and every worker carry the mark too.
  markRun();
  const started = Date.now();
  const server = await startMongoServer({ log: (line) => process.stderr.write(`\n[db] ${line}\n`) });
  globalThis.__passwordResourcesDb = server;
  process.env.TEST_MONGODB_URI = server.uri;
  process.stderr.write(`[db] ${server.kind} at ${server.uri} ready in ${Date.now() - started} ms\n`);
}
