import { resolveSmtp } from '../config/email-options';
import type { SmtpOptions } from '../config/email-options';
import type { AccountService } from '../domain/account-service';
import { AdminService } from '../domain/admin-service';
import type { AdminEventSink, EventLog } from '../domain/events';
import { MailDeliveryError } from '../domain/mail';
import type { RecoveryService } from '../domain/recovery';
import type { UserStore } from '../domain/store';
import { InvalidRequestError, TemporarilyUnavailableError } from '../errors';
import type { AdminHandlerDependencies } from '../http/admin-routes';
import type { ShippedMailer } from '../mail/mailer';
import type { RealmLookup } from './realms';

/** What administration is built from. */
export interface AdministrationDependencies {
  readonly realmOf: RealmLookup;
  readonly users: UserStore;
  readonly accounts: AccountService;
  readonly recovery: RecoveryService;
  readonly mailer: ShippedMailer;
  readonly adminEvents: AdminEventSink;
  /** Where the admin API reads events from. */
  readonly eventLog: EventLog;
}

/** Keycloak's "Test connection": the realm's SMTP settings, or those in the body, tried with one mail. */
function smtpTester(realmOf: RealmLookup, mailer: ShippedMailer): AdminHandlerDependencies['testSmtp'] {
  return async (realm: string, settings: SmtpOptions | undefined, to: string): Promise<void> => {
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
}

/** The administrator's use cases, and everything the admin API's handlers are given. */
export function assembleAdministration({ realmOf, users, accounts, recovery, mailer, adminEvents, eventLog }: AdministrationDependencies): AdminHandlerDependencies {
  const admin = new AdminService({ store: users, accounts, policyOf: (realm) => realmOf(realm).policy, events: adminEvents });
  return { admin, events: eventLog, recovery, testSmtp: smtpTester(realmOf, mailer) };
}
