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
import { createHashQueue } from './domain/hash-queue';
import { createServiceMetrics } from './metrics';
import type { Registry } from 'prom-client';
import { timed, timedUserStore } from './store/timed-user-store';
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
import { redirectAllowed, resolveSmtp } from './config/email-options';
import type { SmtpOptions } from './config/email-options';
import type { PasswordChange } from './domain/account-service';
import { MailDeliveryError } from './domain/mail';
import { RecoveryService } from './domain/recovery';
import type { UserRecord } from './domain/store';
import { InvalidRequestError } from './errors';
import { RECOVERY_JSON_ROUTES, resetPageRouter } from './http/recovery-routes';
import { createMailer } from './mail/mailer';
import { createMongooseActionTokenStore, createMongooseRateLimiter } from './store/mongoose/recovery-stores';

export type { KeycloakCredentialStoreOptions, PasswordResourcesOptions, RealmOptions } from './options';
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
  /** Resolves when the database (and, in sidecar mode, each realm's Keycloak) answers; for readiness probes. */
  ping(): Promise<void>;
  /** Release what the router opened (its own database connection, never the host's). */
  close(): Promise<void>;
  /** The account use cases, for the CLI and for hosts that script them. */
  readonly accounts: AccountService;
  /** The administrator's use cases (the admin API's), for the CLI and for hosts that script them. */
  readonly admin: AdminService;
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
  const mailer = createMailer(realmOf, (kind, ok) => {
    metrics.email(kind, ok ? 'sent' : 'failed');
  });
  /** Tell the user their password changed (never the password); a mail that cannot go out is logged, the change stands. */
  const notify = (user: UserRecord, change: PasswordChange): void => {
    const realm = realmOf(user.realm);
    if (!realm.notifyPasswordChange || !mailer.configured(realm.name) || user.email === undefined) return;
    const values = { username: user.username, time: new Date().toUTCString(), temporary: change.temporary };
    mailer.send({ realm: realm.name, to: user.email, locale: user.locale, kind: change.source === 'admin' ? 'admin-reset' : 'password-changed', values }).catch((error: unknown) => {
      logger.error({ err: error, realm: realm.name, userId: user.id }, 'password change notification not sent');
    });
  };
  const { concurrency } = resolved.hashQueue;
  // libuv reads UV_THREADPOOL_SIZE once, at its first use; the serve command sets it before anything else.
  const threadpool = Number(process.env.UV_THREADPOOL_SIZE ?? '') || LIBUV_DEFAULT_THREADPOOL;
  if (concurrency > threadpool) {
    logger.warn({ hashConcurrency: concurrency, threadpool }, 'more hashes may run at once than libuv has threads: set UV_THREADPOOL_SIZE above hashQueue.concurrency');
  }
  const accounts = new AccountService({
    credentialStoreOf: (realm) => credentialStores.get(realm),
    store,
    hasher: createHashQueue(resolved.hasher ?? createBcryptHasher({ cost: resolved.bcryptCost }), resolved.hashQueue, metrics.hashQueue),
    policyOf: (realm) => realmOf(realm).policy,
    bruteForceOf: (realm) => realmOf(realm).bruteForce,
    events,
    onRehashError: (error) => {
      logger.warn({ err: error }, 'credential not upgraded to the current scheme; the old one stays valid');
    },
    onPasswordChanged: notify,
  });
  const actionTokens = createMongooseActionTokenStore(connection);
  const rateLimiter = createMongooseRateLimiter(connection);
  const recovery = new RecoveryService({
    users: store,
    tokens: actionTokens,
    limiter: rateLimiter,
    accounts,
    mailer,
    realmOf,
    events,
    redirectAllowed: (realm, uri, clientId) => {
      const clients = realmOf(realm).clients;
      const lists = clientId === undefined ? [...clients.values()] : [clients.get(clientId) ?? []];
      return lists.some((allowed) => redirectAllowed(uri, allowed));
    },
    pageUrl: (realm) => (resolved.publicUrl === undefined ? undefined : `${resolved.publicUrl}/realms/${encodeURIComponent(realm)}/password-resources/reset`),
    onBackgroundError: (error, realm) => {
      logger.error({ err: error, realm }, error instanceof MailDeliveryError ? 'forgot-password mail not sent' : 'forgot-password failed');
    },
  });
  const testSmtp = async (realm: string, settings: SmtpOptions | undefined, to: string): Promise<void> => {
    const smtp = settings === undefined ? realmOf(realm).smtp : resolveSmtp('body', settings, process.env, (name, problem) => {
      throw new InvalidRequestError(`${name}: ${problem}`);
    });
    if (smtp === undefined) throw new InvalidRequestError(`Realm "${realm}" has no SMTP settings; send them in the body or set realms.${realm}.smtp.`);
    try {
      await mailer.test(realm, smtp, to);
    } catch (error) {
      if (error instanceof MailDeliveryError) throw new TemporarilyUnavailableError(`The SMTP server at ${smtp.host}:${smtp.port} failed: ${error.message}`, { cause: error });
      throw error;
    }
  };

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
      await actionTokens.init();
      await rateLimiter.init();
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
  const whenReady = async (_req: unknown, _res: unknown, next: () => void): Promise<void> => {
    await ready();
    next();
  };
  const clientIp = (req: express.Request): string | undefined => proxyaddr(req, trust);
  const jsonBody = (schema: string): express.RequestHandler[] => [requireJson, parseJson(resolved.bodyLimitBytes), validateBody(componentValidator(ajv, schema))];
  const account = express.Router({ mergeParams: true });
  // Everything here is scoped to the account base path, so the host's other routes never see it.
  account.use(requestId, resolveRealm(resolved.realms), realmCors, whenReady);
  const audit = (req: express.Request): { ip: string | undefined } => ({ ip: clientIp(req) });
  // Recovery needs no token: the mail is the proof.
  for (const route of RECOVERY_JSON_ROUTES) account.post(route.path, ...jsonBody(route.bodySchema), route.handler(recovery, audit));
  account.use(resetPageRouter(recovery, audit, { secureCookies: resolved.publicUrl?.startsWith('https:') === true, bodyLimitBytes: resolved.bodyLimitBytes }));
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
    adminRouter[route.method](route.path, requireAdminRole(route.role), ...(route.bodySchema ? jsonBody(route.bodySchema) : []), route.handler({ admin, events: eventStore, recovery, testSmtp }));
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
    metrics: metrics.registry,
    async ping() {
      await ready();
      await store.ping();
      // In sidecar mode the passwords are in Keycloak: not ready without it.
      await Promise.all([...credentialStores.values()].map((external) => external.ping()));
    },
    async close() {
      mailer.close();
      if (ownsConnection) await connection.close();
    },
  };
}
