/**
 * Run the gateway example against a Keycloak (`npm run keycloak:start`):
 *
 *   KEYCLOAK_URL=http://127.0.0.1:PORT npm run example:gateway
 *
 * It creates (once) the realm `demo` with its user alice (examples/keycloak-demo.ts),
 * connects to `MONGODB_URI` or an embedded database, and listens on `PORT`
 * (3000) with the password resources under `/accounts`.
 */
import { createServer } from 'node:http';
import mongoose from 'mongoose';
import pino from 'pino';
import { startMongoServer } from '../../src/db/mongo-server';
import { DEMO, demoRealmOptions, ensureDemoRealm, keycloakUrlFromEnv } from '../keycloak-demo';
import { createGateway } from './gateway';

async function main(): Promise<void> {
  const logger = pino({ name: 'gateway' });
  const keycloakUrl = keycloakUrlFromEnv();
  const log = (line: string): void => {
    logger.info(line);
  };
  await ensureDemoRealm(keycloakUrl, { log });
  const database = await startMongoServer({ log });
  const connection = await mongoose.createConnection(database.uri).asPromise();
  // Sidecar mode: alice's password stays in Keycloak; the gateway's database keeps lockout state and events.
  const gateway = createGateway({ connection, logger, realms: { [DEMO.realm]: demoRealmOptions(keycloakUrl) } });
  await gateway.passwords.ready();
  const port = Number(process.env.PORT ?? 3000);
  const server = createServer(gateway.app).listen(port, '127.0.0.1', () => {
    logger.info(`gateway on http://127.0.0.1:${port}: GET /status, /notes; password resources under /accounts/realms/${DEMO.realm}/password-resources/`);
  });
  const stop = (): void => {
    server.close();
    void gateway.close().then(() => connection.close()).then(() => database.stop()).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
