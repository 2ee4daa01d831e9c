import type { Router } from 'express';
import type { Registry } from 'prom-client';
import { assembleAccounts } from './assembly/accounts';
import { assembleAdministration } from './assembly/administration';
import { assembleRouters } from './assembly/http';
import { assembleMail } from './assembly/mail';
import { assembleAuditSinks, assembleObservability } from './assembly/observability';
import { realmLookup } from './assembly/realms';
import { assembleRecovery } from './assembly/recovery';
import { assembleStorage } from './assembly/storage';
import { assembleLoginServers } from './assembly/login-servers';
import type { AccountService } from './domain/account-service';
import type { AdminService } from './domain/admin-service';
import { DatabaseBudget } from './domain/database-budget';
import { TemporarilyUnavailableError } from './errors';
import { resolveOptions } from './options';
import type { PasswordResourcesOptions } from './options';

export type { KeycloakCredentialStoreOptions, PasswordResourcesOptions, RealmOptions } from './options';
export { OptionsError } from './options';
export type { HashAlgorithm, HashScheme, PasswordHasher } from './domain/hashing';
export { createPasswordHasher } from './domain/hashing';
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
  /**
   * Resolves when the database (and, in sidecar mode, each realm's Keycloak)
   * answers within `timeoutMs` (default: `databaseTimeoutMs`), else rejects
   * with a 503 error; for readiness probes.
   */
  ping(timeoutMs?: number): Promise<void>;
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

/**
 * Create the password resources router: resolve the options, then assemble
 * each capability in the order a request meets them.
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
  const realmOf = realmLookup(resolved.realms);
  const observability = assembleObservability(resolved.logger);
  const storage = assembleStorage(resolved, observability);
  const { events, adminEvents } = assembleAuditSinks(storage.events, observability);
  const { mailer, notify } = assembleMail(realmOf, observability);
  const { accounts, credentialStores, calibrate } = assembleAccounts(resolved, { realmOf, users: storage.users, events, notify, observability });
  let calibrated: Promise<void> | undefined;
  const ready = async (): Promise<void> => {
    await storage.ready();
    // Admission reckons with a measured hash time from the first request on.
    calibrated ??= calibrate();
    await calibrated;
  };
  const recovery = assembleRecovery({ realmOf, publicUrl: resolved.publicUrl, storage, accounts, mailer, events, logger: observability.logger });
  const administration = assembleAdministration({ realmOf, users: storage.users, accounts, recovery, mailer, adminEvents, eventLog: storage.events });
  const loginServers = assembleLoginServers(resolved.realms, storage.loginServers, ready, observability.logger);
  const router = assembleRouters(resolved, { ...observability, ready: loginServers.ready, accounts, recovery, administration, noteLoginServer: loginServers.note });

  return {
    router,
    ready: loginServers.ready,
    accounts,
    admin: administration.admin,
    metrics: observability.metrics.registry,
    async ping(timeoutMs = resolved.databaseTimeoutMs) {
      const budget = DatabaseBudget.of(timeoutMs);
      const check = (async () => {
        await storage.ready();
        await storage.users.within(budget).ping();
        // In sidecar mode the passwords are in Keycloak: not ready without it.
        await Promise.all([...credentialStores.values()].map((external) => external.ping()));
      })();
      // When time is up first, this attempt's own failure has nobody left to tell.
      check.catch(() => undefined);
      if ((await budget.bound(check.then(() => 'answered' as const))) !== 'answered') {
        throw new TemporarilyUnavailableError(`The database, or a realm's credential store, did not answer within ${timeoutMs} ms.`);
      }
    },
    async close() {
      mailer.close();
      await storage.close();
    },
  };
}
