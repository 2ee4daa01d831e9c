/**
 * What the domain asks of mail: a message of a kind, to an address, in a
 * language, with its values. Templates, SMTP and nodemailer live behind it
 * (`src/mail`). A message never carries a password.
 */

export type MailKind = 'reset-link' | 'reset-code' | 'password-changed' | 'admin-reset' | 'smtp-test';

export interface MailRequest {
  readonly realm: string;
  readonly to: string;
  /** The user's `locale`; the realm's default when absent or not one the templates speak. */
  readonly locale?: string | undefined;
  readonly kind: MailKind;
  readonly values: Readonly<Record<string, string | number | boolean>>;
}

/** Thrown when the SMTP server refuses or cannot be reached; the message is the server's own text. */
export class MailDeliveryError extends Error {
  override name = 'MailDeliveryError';
}

/** Thrown when the realm has no SMTP settings. */
export class MailNotConfiguredError extends Error {
  override name = 'MailNotConfiguredError';
}

export interface Mailer {
  /** Whether the realm can send mail at all. */
  configured(realm: string): boolean;
  /** @throws MailNotConfiguredError, MailDeliveryError */
  send(request: MailRequest): Promise<void>;
}
