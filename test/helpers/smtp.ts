import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A mail as the test SMTP server received it. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * A real SMTP server on 127.0.0.1 and a free port (the `smtp-server`
 * package), keeping what it receives; `refuse` makes it answer the next
 * recipients with a permanent error, as a full mailbox would.
 */
export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  refuse: string | undefined;
  readonly #server: SMTPServer;
  #port = 0;
  #waiters: (() => void)[] = [];

  private constructor() {
    this.#server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (_address, _session, callback) => {
        if (this.refuse !== undefined) {
          callback(Object.assign(new Error(this.refuse), { responseCode: 550 }));
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        simpleParser(stream).then(
          (parsed) => {
            this.received.push({
              from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            });
            for (const wake of this.#waiters.splice(0)) wake();
            callback();
          },
          (error: unknown) => {
            callback(error instanceof Error ? error : new Error(String(error)));
          },
        );
      },
    });
  }

  static async start(): Promise<TestSmtpServer> {
    const smtp = new TestSmtpServer();
    await new Promise<void>((resolve) => smtp.#server.listen(0, '127.0.0.1', resolve));
    smtp.#port = (smtp.#server.server.address() as AddressInfo).port;
    return smtp;
  }

  get port(): number {
    return this.#port;
  }

  /** The realm setting that sends mail here. */
  settings(from = 'no-reply@example.com'): { host: string; port: number; from: string; fromDisplayName: string } {
    return { host: '127.0.0.1', port: this.#port, from, fromDisplayName: 'Example Accounts' };
  }

  /** The first mail to `to` that arrives after `after` mails had been received, waiting up to `timeoutMs`. */
  async next(to: string, options: { after?: number; timeoutMs?: number } = {}): Promise<ReceivedMail> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const found = this.received.slice(options.after ?? 0).find((mail) => mail.to.includes(to));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no mail to ${to} within the time allowed`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Mails to `to` so far. */
  to(to: string): ReceivedMail[] {
    return this.received.filter((mail) => mail.to.includes(to));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => { this.#server.close(() => { resolve(); }); });
  }
}

/** The reset link in a mail's text. */
export function linkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+\/reset\?key=[A-Za-z0-9_-]+/.exec(mail.text);
  if (!match) throw new Error(`no reset link in: ${mail.text}`);
  return match[0];
}
