import express from 'express';
import type { Response, Router } from 'express';
import mongoose from 'mongoose';
import type { ConnectOptions, Connection } from 'mongoose';
import pino from 'pino';
import { createTokenVerifier } from './auth/token-verifier';
import type { TokenVerifier } from './auth/token-verifier';
import { AccountService } from './domain/account-service';
import { AdminService } from './domain/admin-service';
import { createBcryptHasher } from './domain/hashing';
import type { UserStore } from './domain/store';
import { contextOf } from './http/context';
import { errorHandler } from './http/error-handler';
import {
  admitAdmin,
  admitUser,
  authenticate,
  parseJson,
  realmCors,
  refuseTokensOutsideHeader,
  requestId,
  requireJson,
  requireAdminRole,
  requireRecentAuthentication,
  resolveRealm,
  validateBody,
} from './http/middleware';
import { ACCOUNT_BASE, ACCOUNT_ROUTES } from './http/routes';
import { ADMIN_BASE, ADMIN_ROUTES } from './http/admin-routes';
import { componentValidator, createContractAjv, loadOpenApi } from './http/schemas';
import { resolveOptions } from './options';
import { TemporarilyUnavailableError } from './errors';
import type { PasswordResourcesOptions, ResolvedRealm } from './options';
import { createMongooseUserStore } from './store/mongoose/user-store';
import { createMongooseEventStore } from './store/mongoose/event-store';
import { createKeycloakCredentialStore } from './store/keycloak/credential-store';
import type { CredentialStore } from './domain/credential-store';
import type { AdminEventSink, EventSink } from './domain/events';
import proxyaddr from 'proxy-addr';

export type { KeycloakCredentialStoreOptions, PasswordResourcesOptions, RealmOptions } from './options';
export { OptionsError } from './options';
export type { PasswordHasher } from './domain/hashing';

/** What `createPasswordResources` returns. */
export interface PasswordResources {
  /** Serves `/realms/:realm/password-resources/...`; mount it under any prefix. */
  readonly router: Router;
  /**
   * Connect and create the indexes, once; resolves when done, rejects if the
   * database cannot be reached (a later call tries again). Requests call it too.
   */
  ready(): Promise<void>;
  /** Resolves when the database answers a ping; for readiness probes. */
  ping(): Promise<void>;
  /** Release what the router opened (its own database connection, never the host's). */
  close(): Promise<void>;
  /** The account use cases, for the CLI and for hosts that script them. */
  readonly accounts: AccountService;
  /** The administrator's use cases (the admin API's), for the CLI and for hosts that script them. */
  readonly admin: AdminService;
}

/**
 * Fail closed, fast: mongoose does not queue commands while the database is
 * away, and every operation (server selection included) has a deadline, so a
 * database that stops answering turns into 503s, never into hanging requests.
 */
function connectionOptions(timeoutMs: number): ConnectOptions {
  return { bufferCommands: false, serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs, socketTimeoutMS: timeoutMs };
}

/**
 * Create the password resources router.
 *
 * @example
 * const resources = createPasswordResources({
 *   mongodbUri: process.env.MONGODB_URI,
 *   realms: { alpha: { issuer: 'https://idp.example/realms/alpha' } },
 * });
 * app.use(resources.router);           // or app.use('/gateway', resources.router)
 * await resources.ready();
 */
export function createPasswordResources(options: PasswordResourcesOptions): PasswordResources {
  const resolved = resolveOptions(options);
  const logger = resolved.logger ?? pino({ name: 'password-resources' });
  const ownsConnection = 'uri' in resolved.database;
  const connection: Connection =
    'connection' in resolved.database
      ? resolved.database.connection
      : mongoose.createConnection();
  const store: UserStore = createMongooseUserStore(connection);
  const eventStore = createMongooseEventStore(connection, { retentionSeconds: resolved.eventRetentionDays * 86_400 });
  const events: EventSink = {
    async record(event) {
      // Logged always; stored best effort, so a change that happened is never reported as failed.
      logger.info({ event }, 'audit event');
      try {
        await eventStore.insert(event);
      } catch (error) {
        logger.error({ err: error, event }, 'audit event not stored');
      }
    },
  };
  const adminEvents: AdminEventSink = {
    async recordAdmin(event) {
      logger.info({ adminEvent: event }, 'admin event');
      try {
        await eventStore.insertAdmin(event);
      } catch (error) {
        logger.error({ err: error, adminEvent: event }, 'admin event not stored');
      }
    },
  };
  const trust = proxyaddr.compile([...resolved.trustedProxies]);
  const realmOf = (name: string): ResolvedRealm => {
    const found = resolved.realms.get(name);
    if (!found) throw new Error(`unknown realm ${name}`);
    return found;
  };
  // Sidecar mode: realms whose passwords Keycloak keeps.
  const credentialStores = new Map<string, CredentialStore>();
  for (const realm of resolved.realms.values()) {
    if (realm.credentialStore.type !== 'keycloak') continue;
    const { serverUrl, realm: keycloakRealm, clientId, clientSecret, timeoutMs } = realm.credentialStore;
    credentialStores.set(
      realm.name,
      createKeycloakCredentialStore({
        serverUrl,
        realm: keycloakRealm,
        clientId,
        clientSecret,
        timeoutMs,
        onLogoutError: (error) => {
          logger.warn({ err: error, realm: realm.name }, 'the Keycloak session opened to check a password was not ended; it expires on its own');
        },
      }),
    );
  }
  const accounts = new AccountService({
    credentialStoreOf: (realm) => credentialStores.get(realm),
    store,
    hasher: resolved.hasher ?? createBcryptHasher({ cost: resolved.bcryptCost }),
    policyOf: (realm) => realmOf(realm).policy,
    bruteForceOf: (realm) => realmOf(realm).bruteForce,
    events,
    onRehashError: (error) => {
      logger.warn({ err: error }, 'credential not upgraded to the current scheme; the old one stays valid');
    },
  });

  const admin = new AdminService({ store, accounts, policyOf: (realm) => realmOf(realm).policy, events: adminEvents });

  let starting: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    starting ??= (async () => {
      if ('uri' in resolved.database && connection.readyState === mongoose.ConnectionStates.disconnected) {
        await connection.openUri(resolved.database.uri, connectionOptions(resolved.databaseTimeoutMs));
      }
      await connection.asPromise();
      await store.init();
      await eventStore.init();
    })().catch((error: unknown) => {
      starting = undefined;
      logger.error({ err: error }, 'password-resources cannot reach its database');
      throw new TemporarilyUnavailableError('The credential store is temporarily unavailable; retry later.', { cause: error });
    });
    return starting;
  };

  const verifiers = new Map<string, TokenVerifier>(
    [...resolved.realms.values()].map((realm) => [
      realm.name,
      createTokenVerifier(realm, { clockToleranceSeconds: resolved.clockToleranceSeconds, jwks: resolved.jwks }),
    ]),
  );
  const verifierOf = (realm: ResolvedRealm): TokenVerifier => {
    const verifier = verifiers.get(realm.name);
    if (!verifier) throw new Error(`no verifier for realm ${realm.name}`);
    return verifier;
  };

  const ajv = createContractAjv(loadOpenApi());
  const whenReady = async (_req: unknown, _res: unknown, next: () => void): Promise<void> => {
    await ready();
    next();
  };
  const clientIp = (req: express.Request): string | undefined => proxyaddr(req, trust);
  const jsonBody = (schema: string): express.RequestHandler[] => [requireJson, parseJson(resolved.bodyLimitBytes), validateBody(componentValidator(ajv, schema))];
  const account = express.Router({ mergeParams: true });
  // Everything here is scoped to the account base path, so the host's other routes never see it.
  account.use(requestId, resolveRealm(resolved.realms), realmCors, whenReady);
  const authentication = [refuseTokensOutsideHeader, authenticate(verifierOf, admitUser(accounts), clientIp)];
  for (const route of ACCOUNT_ROUTES) {
    if (route.method === 'get') {
      account.get(route.path, ...authentication, route.handler(accounts));
      continue;
    }
    account.post(
      route.path,
      ...authentication,
      ...(route.stepUp ? [requireRecentAuthentication] : []),
      ...jsonBody(route.bodySchema),
      route.handler(accounts),
    );
  }
  const realmOfResponse = (res: Response): string | undefined => contextOf(res).realm?.name;
  account.use(errorHandler(logger, realmOfResponse));

  const adminRouter = express.Router({ mergeParams: true });
  adminRouter.use(requestId, resolveRealm(resolved.realms), whenReady, refuseTokensOutsideHeader, authenticate(verifierOf, admitAdmin, clientIp));
  for (const route of ADMIN_ROUTES) {
    adminRouter[route.method](route.path, requireAdminRole(route.role), ...(route.bodySchema ? jsonBody(route.bodySchema) : []), route.handler({ admin, events: eventStore }));
  }
  adminRouter.use(errorHandler(logger, realmOfResponse));

  const router = express.Router();
  router.use(ACCOUNT_BASE, account);
  router.use(ADMIN_BASE, adminRouter);

  return {
    router,
    ready,
    accounts,
    admin,
    async ping() {
      await ready();
      await store.ping();
    },
    async close() {
      if (ownsConnection) await connection.close();
    },
  };
}
