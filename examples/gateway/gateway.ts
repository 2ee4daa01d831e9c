/**
 * A gateway of its own (its routes, its logger, its mongoose connection) that
 * mounts password-resources under a prefix, as README's "Mounting into an
 * existing app" describes. The app only; `main.ts` listens.
 */
import express from 'express';
import type { Express } from 'express';
import { ConnectionStates, Schema } from 'mongoose';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
// In your app: from 'password-resources'.
import { createPasswordResources } from '../../src/index';
import type { PasswordResources, RealmOptions } from '../../src/index';

/** What the gateway is given: everything it shares with the router is the host's. */
export interface GatewayOptions {
  /** The gateway's own connection; the router's collections (`users`, `events`, ...) go into the same database. */
  readonly connection: Connection;
  /** The gateway's own logger; the router logs through a child of it. */
  readonly logger: Logger;
  readonly realms: Readonly<Record<string, RealmOptions>>;
  /** Where the password resources are served. Default: `/accounts`. */
  readonly prefix?: string;
}

/** The gateway's app and the router it mounted. */
export interface Gateway {
  readonly app: Express;
  readonly passwords: PasswordResources;
  /** Closes what the router opened; the gateway's connection stays open (it is the gateway's to close). */
  close(): Promise<void>;
}

interface Note {
  readonly text: string;
}

/**
 * The gateway: its own `/status` and `/notes` routes (a model on the shared
 * connection), its access log, and the password resources under `prefix`.
 *
 * @example
 * const gateway = createGateway({ connection, logger, realms: { demo: { issuer: 'http://127.0.0.1:8180/realms/demo' } } });
 * await gateway.passwords.ready();
 * createServer(gateway.app).listen(3000);
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { connection, logger, realms, prefix = '/accounts' } = options;
  const notes = connection.model<Note>('GatewayNote', new Schema<Note>({ text: { type: String, required: true } }), 'gateway_notes');
  // The router's log lines carry this binding, so they can be told from the gateway's own.
  const passwords = createPasswordResources({ connection, realms, logger: logger.child({ component: 'password-resources' }) });

  const app = express();
  app.disable('x-powered-by');
  // The gateway's access log, for every path including the router's; the router keeps its own secrets out,
  // the gateway keeps the Authorization header out of its own lines.
  app.use(pinoHttp({ logger, redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' } }));
  app.get('/status', (_req, res) => {
    res.json({ gateway: 'up', database: connection.readyState === ConnectionStates.connected ? 'connected' : 'disconnected' });
  });
  app.use(prefix, passwords.router);
  // The gateway's own body parser, registered after the router: the router parses its own bodies.
  app.use('/notes', express.json());
  app.post('/notes', async (req, res) => {
    const { text } = req.body as { text?: unknown };
    if (typeof text !== 'string') {
      res.status(400).json({ error: 'text is required' });
      return;
    }
    const note = await notes.create({ text });
    res.status(201).json({ id: String(note._id), text: note.text });
  });
  app.get('/notes', async (_req, res) => {
    res.json((await notes.find().lean()).map((note) => ({ id: String(note._id), text: note.text })));
  });

  return { app, passwords, close: () => passwords.close() };
}
