import type { PasswordChange } from '../domain/account-service';
import type { UserRecord } from '../domain/store';
import { createMailer } from '../mail/mailer';
import type { ShippedMailer } from '../mail/mailer';
import type { Observability } from './observability';
import type { RealmLookup } from './realms';

/** Outgoing mail: the realms' SMTP servers, and the notice of a changed password. */
export interface Mail {
  readonly mailer: ShippedMailer;
  /** Tell the user their password changed (never the password); a mail that cannot go out is logged, the change stands. */
  readonly notify: (user: UserRecord, change: PasswordChange) => void;
}

export function assembleMail(realmOf: RealmLookup, { logger, metrics }: Observability): Mail {
  const mailer = createMailer(realmOf, (kind, ok) => {
    metrics.email(kind, ok ? 'sent' : 'failed');
  });
  const notify = (user: UserRecord, change: PasswordChange): void => {
    const realm = realmOf(user.realm);
    if (!realm.notifyPasswordChange || !mailer.configured(realm.name) || user.email === undefined) return;
    const values = { username: user.username, time: new Date().toUTCString(), temporary: change.temporary };
    mailer.send({ realm: realm.name, to: user.email, locale: user.locale, kind: change.source === 'admin' ? 'admin-reset' : 'password-changed', values }).catch((error: unknown) => {
      logger.error({ err: error, realm: realm.name, userId: user.id }, 'password change notification not sent');
    });
  };
  return { mailer, notify };
}
