import type { Logger } from 'pino';
import type { ResolvedRealm } from '../config/realm-options';
import type { LoginServerStore } from '../store/mongoose/login-server-store';

/** A login server calls often; noting it once every ten minutes per instance is enough for the start-up warning. */
const NOTE_INTERVAL_MS = 600_000;

/** What the service knows of the login servers that call login-check. */
export interface LoginServers {
  /** Note a login-check call: at most one write per realm and interval per instance, in the background. */
  readonly note: (realm: string, clientId: string | undefined) => void;
  /** The storage's `ready`, then, once, the start-up warning about realms no login server has called. */
  readonly ready: () => Promise<void>;
}

/**
 * A realm whose passwords are here while its login server checks its own
 * (Keycloak without the provider) lets the old password open the account
 * after a change here: said at start-up, per realm, until a login server calls.
 */
export function assembleLoginServers(
  realms: ReadonlyMap<string, ResolvedRealm>,
  store: LoginServerStore,
  storageReady: () => Promise<void>,
  logger: Logger,
): LoginServers {
  const noted = new Map<string, number>();
  let warned: Promise<void> | undefined;
  const warn = async (): Promise<void> => {
    for (const realm of realms.values()) {
      if (realm.credentialStore.type !== 'mongodb' || (await store.lastCall(realm.name)) !== undefined) continue;
      logger.warn(
        { realm: realm.name },
        'this realm keeps its passwords here, but no login server has called login-check yet: unless Keycloak runs the password-resources provider (or another login server calls login-check), it checks passwords it keeps itself, and a password changed here does not open the account there (README: Keycloak, modes)',
      );
    }
  };
  return {
    note: (realm, clientId) => {
      const now = Date.now();
      if (now - (noted.get(realm) ?? Number.NEGATIVE_INFINITY) < NOTE_INTERVAL_MS) return;
      noted.set(realm, now);
      store.called(realm, clientId, new Date(now)).catch((error: unknown) => {
        noted.delete(realm);
        logger.warn({ err: error, realm }, 'the login-check call was not noted');
      });
    },
    ready: async () => {
      await storageReady();
      warned ??= warn().catch((error: unknown) => {
        logger.warn({ err: error }, 'could not tell whether a login server calls login-check');
      });
      await warned;
    },
  };
}
