/**
 * password-resources for the examples' one-command runs: the standalone app
 * on 127.0.0.1 with an embedded database (or `MONGODB_URI`), serving the demo
 * realm in sidecar mode.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
// In your deployment: `npm start` with REALMS, OIDC_ISSUER_BASE_URL and a CONFIG_FILE.
import { createApp } from '../src/app';
import { startMongoServer } from '../src/db/mongo-server';
import { createPasswordResources } from '../src/index';
import type { RealmOptions } from '../src/index';
import { DEMO, demoRealmOptions } from './keycloak-demo';

/** A running demo service. */
export interface DemoService {
  /** Where `/realms/...` is served. */
  readonly url: string;
  close(): Promise<void>;
}

/** Start the service for the demo realm, with `extra` realm settings (CORS, step-up). */
export async function startDemoService(keycloakUrl: string, extra: Partial<RealmOptions> = {}, port = 0): Promise<DemoService> {
  const logger = pino({ name: 'password-resources', level: process.env.LOG_LEVEL ?? 'warn' });
  const log = (line: string): void => {
    logger.info(line);
  };
  const database = await startMongoServer({ log });
  const resources = createPasswordResources({ mongodbUri: database.uri, logger, realms: { [DEMO.realm]: { ...demoRealmOptions(keycloakUrl), ...extra } } });
  await resources.ready();
  const server = createServer(createApp(resources, logger));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await resources.close();
      await database.stop();
    },
  };
}
