import { AccountService } from '../domain/account-service';
import type { PasswordChange } from '../domain/account-service';
import type { CredentialStore } from '../domain/credential-store';
import type { EventSink } from '../domain/events';
import { createHashQueue } from '../domain/hash-queue';
import type { QueuedHasher } from '../domain/hash-queue';
import { createPasswordHasher } from '../domain/hashing';
import type { UserRecord, UserStore } from '../domain/store';
import type { ResolvedRealm } from '../config/realm-options';
import type { ResolvedOptions } from '../options';
import { createKeycloakCredentialStore } from '../store/keycloak/credential-store';
import type { Observability } from './observability';
import type { RealmLookup } from './realms';

/** libuv's threadpool size when UV_THREADPOOL_SIZE is unset. */
const LIBUV_DEFAULT_THREADPOOL = 4;

/** The account use cases, and the realms whose passwords Keycloak keeps (sidecar mode). */
export interface Accounts {
  readonly accounts: AccountService;
  /** By realm name; realms whose passwords are ours are absent. */
  readonly credentialStores: ReadonlyMap<string, CredentialStore>;
  /** Time one hash in the first realm's scheme, so that admission starts from a measurement; later hashes, of any scheme, refine it. */
  readonly calibrate: () => Promise<void>;
}

/** What the account service is built from. */
export interface AccountsDependencies {
  readonly realmOf: RealmLookup;
  readonly users: UserStore;
  readonly events: EventSink;
  readonly notify: (user: UserRecord, change: PasswordChange) => void;
  readonly observability: Observability;
}

/** Sidecar mode: a Keycloak credential store for each realm that asks for one. */
function keycloakCredentialStores(realms: Iterable<ResolvedRealm>, { logger }: Observability): Map<string, CredentialStore> {
  const stores = new Map<string, CredentialStore>();
  for (const realm of realms) {
    if (realm.credentialStore.type !== 'keycloak') continue;
    const { serverUrl, realm: keycloakRealm, clientId, clientSecret, timeoutMs } = realm.credentialStore;
    stores.set(
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
  return stores;
}

/** Every hash goes through one queue admitting by time, the host's hasher or ours, whatever the realm's scheme. */
function queuedHasher(resolved: Pick<ResolvedOptions, 'hasher' | 'hashQueue'>, { logger, metrics }: Observability): QueuedHasher {
  const { concurrency } = resolved.hashQueue;
  // libuv reads UV_THREADPOOL_SIZE once, at its first use; the serve command sets it before anything else.
  const threadpool = Number(process.env.UV_THREADPOOL_SIZE ?? '') || LIBUV_DEFAULT_THREADPOOL;
  if (concurrency > threadpool) {
    logger.warn({ hashConcurrency: concurrency, threadpool }, 'more hashes may run at once than libuv has threads: set UV_THREADPOOL_SIZE above hashQueue.concurrency');
  }
  return createHashQueue(resolved.hasher ?? createPasswordHasher(), resolved.hashQueue, metrics.hashQueue);
}

export function assembleAccounts(resolved: ResolvedOptions, { realmOf, users, events, notify, observability }: AccountsDependencies): Accounts {
  const credentialStores = keycloakCredentialStores(resolved.realms.values(), observability);
  const hashQueue = queuedHasher(resolved, observability);
  const accounts = new AccountService({
    credentialStoreOf: (realm) => credentialStores.get(realm),
    store: users,
    hasher: hashQueue,
    admission: hashQueue,
    policyOf: (realm) => realmOf(realm).policy,
    hashSchemeOf: (realm) => realmOf(realm).hashScheme,
    bruteForceOf: (realm) => realmOf(realm).bruteForce,
    events,
    onRehashError: (error) => {
      observability.logger.warn({ err: error }, 'credential not upgraded to the current scheme; the old one stays valid');
    },
    onPasswordChanged: notify,
  });
  // A host's hasher is never spent on a throwaway (it may count, or call out): its first real hashes measure instead.
  const [first] = resolved.realms.values();
  const calibrate = (): Promise<void> => (first === undefined || resolved.hasher !== undefined ? Promise.resolve() : hashQueue.calibrate(first.hashScheme));
  return { accounts, credentialStores, calibrate };
}
