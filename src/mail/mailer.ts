/**
 * The shipped `Mailer`: Handlebars templates (text and HTML, per language,
 * a realm's folder first, then ours) sent with nodemailer over the realm's
 * SMTP settings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import nodemailer from 'nodemailer';
import type { SMTPTransportOptions, Transporter } from 'nodemailer';
import { LOCALES } from '../config/email-options';
import type { ResolvedSmtp } from '../config/email-options';
import { MailDeliveryError, MailNotConfiguredError } from '../domain/mail';
import type { Mailer, MailKind, MailRequest } from '../domain/mail';

/** The templates shipped with the package, two levels above this file in `src/` and in `dist/`. */
export const SHIPPED_TEMPLATES = join(__dirname, '..', '..', 'templates');

/** What the mailer needs to know of a realm. */
export interface MailRealm {
  readonly smtp: ResolvedSmtp | undefined;
  readonly templates: string | undefined;
  readonly defaultLocale: string;
}

type Render = (values: Readonly<Record<string, unknown>>) => string;

const compiled = new Map<string, Render>();

/**
 * Render a template file, the realm's override when `folders` has one, else
 * ours. HTML is escaped; text is not (escaping would show as `&amp;`).
 */
export function renderTemplate(folders: readonly string[], file: string, values: Readonly<Record<string, unknown>>): string {
  const path = folders.map((folder) => join(folder, file)).find((candidate) => existsSync(candidate));
  if (path === undefined) throw new Error(`no template ${file} in ${folders.join(', ')}`);
  let template = compiled.get(path);
  if (!template) {
    template = Handlebars.compile(readFileSync(path, 'utf8'), { noEscape: !file.endsWith('.html.hbs'), strict: true });
    compiled.set(path, template);
  }
  return template(values);
}

/** SMTP settings as nodemailer takes them. */
export function transportOptions(smtp: ResolvedSmtp): SMTPTransportOptions {
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.ssl,
    requireTLS: smtp.starttls,
    // Without STARTTLS asked for, do not upgrade opportunistically.
    ignoreTLS: !smtp.ssl && !smtp.starttls,
    ...(smtp.auth ? { auth: { user: smtp.auth.user, pass: smtp.auth.password } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  };
}

function mailbox(address: string, name: string | undefined): string | { name: string; address: string } {
  return name === undefined ? address : { name, address };
}

/** Send one message over `smtp`, rendered from the folders' templates. */
async function deliver(transport: Transporter, smtp: ResolvedSmtp, folders: readonly string[], request: MailRequest): Promise<void> {
  const values = { realm: request.realm, ...request.values };
  const part = (name: string): string => renderTemplate(folders, `${request.kind}.${name}.hbs`, values);
  try {
    await transport.sendMail({
      from: mailbox(smtp.from, smtp.fromDisplayName),
      ...(smtp.replyTo === undefined ? {} : { replyTo: mailbox(smtp.replyTo, smtp.replyToDisplayName) }),
      ...(smtp.envelopeFrom === undefined ? {} : { envelope: { from: smtp.envelopeFrom, to: request.to } }),
      to: request.to,
      subject: part('subject').trim(),
      text: part('txt'),
      html: part('html'),
    });
  } catch (error) {
    throw new MailDeliveryError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** The folders to look for a language's mail templates in, the realm's first. */
function mailFolders(realm: MailRealm, locale: string): string[] {
  return [...(realm.templates === undefined ? [] : [join(realm.templates, 'email', locale)]), join(SHIPPED_TEMPLATES, 'email', locale)];
}

export interface ShippedMailer extends Mailer {
  /** Send a test message over the given settings (Keycloak's "Test connection"), not the realm's cached transport. */
  test(realm: string, smtp: ResolvedSmtp, to: string): Promise<void>;
  close(): void;
}

/** `onSent(kind, ok)` is told of every message tried (metrics). */
export function createMailer(realmOf: (realm: string) => MailRealm, onSent: (kind: MailKind, ok: boolean) => void = () => undefined): ShippedMailer {
  const transports = new Map<string, Transporter>();
  return {
    configured: (name) => realmOf(name).smtp !== undefined,
    async send(request) {
      const realm = realmOf(request.realm);
      const smtp = realm.smtp;
      if (!smtp) throw new MailNotConfiguredError(`Realm "${request.realm}" has no SMTP settings (realms.${request.realm}.smtp).`);
      const locale = request.locale !== undefined && LOCALES.includes(request.locale) ? request.locale : realm.defaultLocale;
      let transport = transports.get(request.realm);
      if (!transport) {
        transport = nodemailer.createTransport(transportOptions(smtp));
        transports.set(request.realm, transport);
      }
      try {
        await deliver(transport, smtp, mailFolders(realm, locale), request);
      } catch (error) {
        onSent(request.kind, false);
        throw error;
      }
      onSent(request.kind, true);
    },
    async test(name, smtp, to) {
      const realm = realmOf(name);
      const transport = nodemailer.createTransport(transportOptions(smtp));
      try {
        await deliver(transport, smtp, mailFolders(realm, realm.defaultLocale), { realm: name, to, kind: 'smtp-test' satisfies MailKind, values: {} });
      } finally {
        transport.close();
      }
    },
    close() {
      for (const transport of transports.values()) transport.close();
      transports.clear();
    },
  };
}
