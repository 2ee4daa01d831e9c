import { redirectAllowed } from '../config/email-options';
import type { AccountService } from '../domain/account-service';
import type { EventSink } from '../domain/events';
import { MailDeliveryError } from '../domain/mail';
import type { Mailer } from '../domain/mail';
import { RecoveryService } from '../domain/recovery';
import type { Logger } from 'pino';
import type { Storage } from './storage';
import type { RealmLookup } from './realms';

/** What recovery is built from. */
export interface RecoveryDependencies {
  readonly realmOf: RealmLookup;
  /** Where browsers reach this router; no links are mailed without it. */
  readonly publicUrl: string | undefined;
  readonly storage: Pick<Storage, 'users' | 'actionTokens' | 'rateLimiter'>;
  readonly accounts: AccountService;
  readonly mailer: Mailer;
  readonly events: EventSink;
  readonly logger: Logger;
}

/** Forgot-password, reset links and codes: the mail is the proof. */
export function assembleRecovery({ realmOf, publicUrl, storage, accounts, mailer, events, logger }: RecoveryDependencies): RecoveryService {
  return new RecoveryService({
    users: storage.users,
    tokens: storage.actionTokens,
    limiter: storage.rateLimiter,
    accounts,
    mailer,
    realmOf,
    events,
    redirectAllowed: (realm, uri, clientId) => {
      const clients = realmOf(realm).clients;
      const lists = clientId === undefined ? [...clients.values()] : [clients.get(clientId) ?? []];
      for (const allowed of lists) {
        const url = redirectAllowed(uri, allowed);
        if (url !== undefined) return url;
      }
      return undefined;
    },
    pageUrl: (realm) => (publicUrl === undefined ? undefined : `${publicUrl}/realms/${encodeURIComponent(realm)}/password-resources/reset`),
    onBackgroundError: (error, realm) => {
      logger.error({ err: error, realm }, error instanceof MailDeliveryError ? 'forgot-password mail not sent' : 'forgot-password failed');
    },
  });
}
