import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailDeliveryError, MailNotConfiguredError } from '../../src/domain/mail';
import { createMailer } from '../../src/mail/mailer';
import type { MailRealm } from '../../src/mail/mailer';
import { TestSmtpServer } from '../helpers/smtp';

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await TestSmtpServer.start();
});
afterAll(async () => smtp.stop());

function realm(overrides: Partial<MailRealm> = {}): MailRealm {
  const { host, port, from } = smtp.settings();
  return {
    smtp: { host, port, from, fromDisplayName: 'Acme Accounts', replyTo: 'help@example.com', replyToDisplayName: undefined, envelopeFrom: undefined, ssl: false, starttls: false, auth: undefined },
    templates: undefined,
    defaultLocale: 'en',
    ...overrides,
  };
}

describe('the mailer', () => {
  it("uses a realm's own template where it has one, ours for the rest, in the user's language or the realm's", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'templates-'));
    mkdirSync(join(folder, 'email', 'en'), { recursive: true });
    writeFileSync(join(folder, 'email', 'en', 'reset-link.subject.hbs'), 'Acme: reset for {{username}}');
    const mailer = createMailer(() => realm({ templates: folder }));
    try {
      await mailer.send({ realm: 'acme', to: 'rita@example.com', kind: 'reset-link', values: { username: 'rita', link: 'https://x.example/r?key=k', expiresInMinutes: 15 } });
      const mail = await smtp.next('rita@example.com');
      expect(mail.subject).toBe('Acme: reset for rita');
      expect(mail.text).toContain('https://x.example/r?key=k');
      // Handlebars escapes "=" in attributes; a browser reads it back as "=".
      expect(mail.html).toContain('<a href="https://x.example/r?key&#x3D;k">');

      await mailer.send({ realm: 'acme', to: 'sven@example.com', locale: 'de', kind: 'password-changed', values: { username: 'sven', time: 'now' } });
      expect((await smtp.next('sven@example.com')).subject).toBe('Ihr Passwort für acme wurde geändert');
      await mailer.send({ realm: 'acme', to: 'tina@example.com', locale: 'fr', kind: 'password-changed', values: { username: 'tina', time: 'now' } });
      expect((await smtp.next('tina@example.com')).subject).toBe('Your password for acme was changed');
    } finally {
      mailer.close();
    }
  });

  it('escapes values in HTML, not in text', async () => {
    const mailer = createMailer(() => realm());
    try {
      await mailer.send({ realm: 'acme', to: 'ulf@example.com', kind: 'password-changed', values: { username: '<b>ulf</b> & co', time: 'now' } });
      const mail = await smtp.next('ulf@example.com');
      expect(mail.text).toContain('Hello <b>ulf</b> & co,');
      expect(mail.html).toContain('Hello &lt;b&gt;ulf&lt;/b&gt; &amp; co,');
    } finally {
      mailer.close();
    }
  });

  it('says when a realm has no SMTP settings, and passes on the server\'s refusal', async () => {
    const none = createMailer(() => realm({ smtp: undefined }));
    await expect(none.send({ realm: 'acme', to: 'x@example.com', kind: 'smtp-test', values: {} })).rejects.toThrow(MailNotConfiguredError);
    const mailer = createMailer(() => realm());
    smtp.refuse = 'No such user here';
    try {
      await expect(mailer.send({ realm: 'acme', to: 'vera@example.com', kind: 'smtp-test', values: {} })).rejects.toThrow(MailDeliveryError);
      await expect(mailer.send({ realm: 'acme', to: 'vera@example.com', kind: 'smtp-test', values: {} })).rejects.toThrow(/No such user here/);
    } finally {
      smtp.refuse = undefined;
      mailer.close();
    }
  });
});
