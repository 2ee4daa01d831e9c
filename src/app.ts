import express from 'express';
import type { Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { PasswordResources } from './index';
import { NotFoundError, TemporarilyUnavailableError } from './errors';
import { sendError, toPasswordResourcesError } from './http/error-handler';
import { requestIdOf } from './http/middleware';

/**
 * The standalone app: helmet, JSON access logs without secrets, health probes,
 * the router, and JSON errors for everything else. It does not listen; the
 * server does.
 */
export function createApp(resources: PasswordResources, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet());
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = requestIdOf(req as express.Request);
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Only what an operator needs; never headers (Authorization), bodies or query strings (tokens, keys).
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await resources.ping();
      res.json({ status: 'ok' });
    } catch (error) {
      sendError(res, new TemporarilyUnavailableError('The database does not answer.', { cause: error }), undefined);
    }
  });

  app.use(resources.router);

  app.use((req, _res, next) => {
    next(new NotFoundError(`No route for ${req.method} ${req.path.slice(0, 200)}.`));
  });
  app.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const mapped = toPasswordResourcesError(error);
    if (!mapped.expose) logger.error({ err: error }, 'request failed');
    sendError(res, mapped, undefined);
  });
  return app;
}
