import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startMongoServer } from '../../src/db/mongo-server';
import type { MongoServer } from '../../src/db/mongo-server';
import { startKeycloak } from '../../scripts/keycloak';
import type { KeycloakServer } from '../../scripts/keycloak';
import { markRun } from '../helpers/processes';

declare global {
  var __passwordResourcesDb: MongoServer | undefined;
  var __passwordResourcesKeycloak: KeycloakServer | undefined;
}

/**
 * One database server and one Keycloak for the run (installed first if need
 * be); workers find them through TEST_MONGODB_URI and KEYCLOAK_URL.
 */
export default async function globalSetup(): Promise<void> {
  // Before anything starts, so that the teardown finds whatever a test leaves running.
  markRun();
  const log = (line: string): void => {
    process.stderr.write(`\n[keycloak] ${line}\n`);
  };
  // A Keycloak already running (`npm run keycloak:start` prints these) saves its start while iterating.
  const running = process.env.KEYCLOAK_URL !== undefined && process.env.KEYCLOAK_DB_URL !== undefined;
  // The password-resources provider (npm run keycloak:provider), loaded for the realms that configure it.
  const provider = join(__dirname, '..', '..', 'keycloak-provider', 'target', 'password-resources-keycloak.jar');
  if (!running && !existsSync(provider)) throw new Error(`${provider} is missing: run npm run keycloak:provider`);
  const [db, keycloak] = await Promise.all([startMongoServer({ log }), running ? undefined : startKeycloak(log, process.env, { providers: [provider] })]);
  globalThis.__passwordResourcesDb = db;
  globalThis.__passwordResourcesKeycloak = keycloak;
  process.env.TEST_MONGODB_URI = db.uri;
  if (keycloak) {
    process.env.KEYCLOAK_URL = keycloak.url;
    process.env.KEYCLOAK_HOME = keycloak.home;
    process.env.KEYCLOAK_DB_URL = keycloak.dbUrl;
  }
}
