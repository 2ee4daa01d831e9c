import express from 'express';
import type { Response, Router } from 'express';
import mongoose from 'mongoose';
import type { ConnectOptions, Connection } from 'mongoose';
import pino from 'pino';
import { createTokenVerifier } from './auth/token-verifier';
import type { TokenVerifier } from './auth/token-verifier';
import { AccountService } from './domain/account-service';
import { createBcryptHasher } from './domain/hashing';
import { createHashQueue } from './domain/hash-queue';
import { createServiceMetrics } from './metrics';
import type { Registry } from 'prom-client';
import { timed, timedUserStore } from './store/timed-user-store';
import type { UserStore } from './domain/store';
import { contextOf } from './http/context';
import { errorHandler } from './http/error-handler';
import {
  authenticate,
  parseJson,
  realmCors,
  refuseTokensOutsideHeader,
  requestId,
  requireJson,
  requireRecentAuthentication,
  resolveRealm,
  validateBody,
} from './http/middleware';
import { ACCOUNT_BASE, ACCOUNT_ROUTES } from './http/routes';
import { componentValidator, createContractAjv, loadOpenApi } from './http/schemas';
import { resolveOptions } from './options';
import { TemporarilyUnavailableError } from './errors';
import type { PasswordResourcesOptions, ResolvedRealm } from './options';
import { createMongooseUserStore } from './store/mongoose/user-store';
import { createMongooseEventStore } from './store/mongoose/event-store';
import type { EventSink } from './domain/events';
import proxyaddr from 'proxy-addr';

export type { PasswordResourcesOptions, RealmOptions } from './options';
export { OptionsError } from './options';
export type { PasswordHasher } from './domain/hashing';
export { HashQueueFullError } from './domain/hash-queue';

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
  /**
   * This router's Prometheus metrics (hash queue and durations, audit events and
   * lockouts, key set fetches, database latency), in a registry of its own: the
   * standalone server serves it on `/metrics`; a host can serve it or merge it
   * with `Registry.merge`.
   */
  readonly metrics: Registry;
}

/** libuv's threadpool size when UV_THREADPOOL_SIZE is unset. */
const LIBUV_DEFAULT_THREADPOOL = 4;

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
  const metrics = createServiceMetrics();
  const observeDatabase = metrics.database.bind(metrics);
  const store: UserStore = timedUserStore(createMongooseUserStore(connection), observeDatabase);
  const eventStore = createMongooseEventStore(connection, { retentionSeconds: resolved.eventRetentionDays * 86_400 });
  const events: EventSink = {
    async record(event) {
      metrics.event(event.type);
      // Logged always; stored best effort, so a change that happened is never reported as failed.
      logger.info({ event }, 'audit event');
      try {
        await timed('insertEvent', observeDatabase, () => eventStore.insert(event));
      } catch (error) {
        logger.error({ err: error, event }, 'audit event not stored');
      }
    },
  };
  const trust = proxyaddr.compile([...resolved.trustedProxies]);
  const realmOf = (name: string): ResolvedRealm => {
    const found = resolved.realms.get(name);
    if (!found) throw new Error(`unknown realm ${name}`);
    return found;
  };
  const { concurrency } = resolved.hashQueue;
  // libuv reads UV_THREADPOOL_SIZE once, at its first use; the serve command sets it before anything else.
  const threadpool = Number(process.env.UV_THREADPOOL_SIZE ?? '') || LIBUV_DEFAULT_THREADPOOL;
  if (concurrency > threadpool) {
    logger.warn({ hashConcurrency: concurrency, threadpool }, 'more hashes may run at once than libuv has threads: set UV_THREADPOOL_SIZE above hashQueue.concurrency');
  }
  const accounts = new AccountService({
    store,
    hasher: createHashQueue(resolved.hasher ?? createBcryptHasher({ cost: resolved.bcryptCost }), resolved.hashQueue, metrics.hashQueue),
    policyOf: (realm) => realmOf(realm).policy,
    bruteForceOf: (realm) => realmOf(realm).bruteForce,
    events,
    onRehashError: (error) => {
      logger.warn({ err: error }, 'credential not upgraded to the current scheme; the old one stays valid');
    },
  });

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
      createTokenVerifier(realm, {
        clockToleranceSeconds: resolved.clockToleranceSeconds,
        jwks: resolved.jwks,
        onJwks: (outcome) => {
          metrics.jwks(realm.name, outcome);
        },
      }),
    ]),
  );
  const verifierOf = (realm: ResolvedRealm): TokenVerifier => {
    const verifier = verifiers.get(realm.name);
    if (!verifier) throw new Error(`no verifier for realm ${realm.name}`);
    return verifier;
  };

  const ajv = createContractAjv(loadOpenApi());
  const account = express.Router({ mergeParams: true });
  // Everything here is scoped to the account base path, so the host's other routes never see it.
  account.use(requestId, resolveRealm(resolved.realms), realmCors, async (_req, _res, next) => {
    await ready();
    next();
  });
  const authentication = [refuseTokensOutsideHeader, authenticate(verifierOf, accounts, (req) => proxyaddr(req, trust))];
  for (const route of ACCOUNT_ROUTES) {
    if (route.method === 'get') {
      account.get(route.path, ...authentication, route.handler(accounts));
      continue;
    }
    account.post(
      route.path,
      ...authentication,
      ...(route.stepUp ? [requireRecentAuthentication] : []),
      requireJson,
      parseJson(resolved.bodyLimitBytes),
      validateBody(componentValidator(ajv, route.bodySchema)),
      route.handler(accounts),
    );
  }
  account.use(errorHandler(logger, (res: Response) => contextOf(res).realm?.name));

  const router = express.Router();
  router.use(ACCOUNT_BASE, account);

  return {
    router,
    ready,
    accounts,
    metrics: metrics.registry,
    async ping() {
      await ready();
      await store.ping();
    },
    async close() {
      if (ownsConnection) await connection.close();
    },
  };
}
