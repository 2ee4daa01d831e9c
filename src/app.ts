import express from 'express';
import type { Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { PasswordResources } from './index';
import { ACCOUNT_BASE, ACCOUNT_ROUTES } from './http/routes';
import { METRIC_PREFIX } from './metrics';
import { NotFoundError, TemporarilyUnavailableError } from './errors';
import { sendError, toPasswordResourcesError } from './http/error-handler';
import { apiSecurityHeaders, requestIdOf } from './http/middleware';
import { safeLogger, serializeError } from './logging';

/** A probe's answer comes within 1 s whatever the database does: its ping may take this long, the rest is ours. */
const READINESS_TIMEOUT_MS = 800;

/** The standalone app's own routes. */
const OPERATION_PATHS = ['/healthz', '/readyz', '/metrics'];

/**
 * The route template a request path matches (`/realms/{realm}/...`), or
 * `other`: a label with a bounded set of values, whatever paths callers send.
 */
function routeLabel(path: string): string {
  if (OPERATION_PATHS.includes(path)) return path;
  const match = /^\/realms\/[^/]+\/password-resources(\/[^/]+)$/.exec(path);
  const route = match && ACCOUNT_ROUTES.find((candidate) => candidate.path === match[1]);
  return route ? `${ACCOUNT_BASE.replace(':realm', '{realm}')}${route.path}` : 'other';
}

/**
 * Count and time every response by method, route and status; and the
 * process's own metrics (CPU, memory, event loop delay, GC).
 */
function httpMetrics(registry: Registry): express.RequestHandler {
  // 1 ms: the delay histogram counts the sampling interval in, so 10 ms (the default) would read as 10 ms of delay.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1 });
  const registers = [registry];
  const requests = new Counter({ name: `${METRIC_PREFIX}http_requests_total`, help: 'HTTP responses, by method, route and status.', labelNames: ['method', 'route', 'status'], registers });
  const duration = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'Time from request to response end, by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  return (req, res, next) => {
    const start = performance.now();
    // Read now: routers strip their mount path from req.url while they handle it.
    const route = routeLabel(req.path);
    res.once('finish', () => {
      const labels = { method: req.method, route, status: String(res.statusCode) };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - start) / 1000);
    });
    next();
  };
}

/**
 * The standalone app: helmet, JSON access logs without secrets, health probes,
 * the router, and JSON errors for everything else. It does not listen; the
 * server does.
 */
export function createApp(resources: PasswordResources, hostLogger: Logger): Express {
  const logger = safeLogger(hostLogger);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // The app's own metrics in a registry of its own, served with the router's.
  const appMetrics = new Registry();
  app.use(httpMetrics(appMetrics));
  // After every metric exists: merge copies the metrics registered by then.
  const metrics = Registry.merge([appMetrics, resources.metrics]);
  // An API's CSP on every answer, the router's own; the hosted reset page replaces it with its own strict one.
  app.use(helmet({ contentSecurityPolicy: false, frameguard: { action: 'deny' } }), apiSecurityHeaders);
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
        err: serializeError,
      },
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await resources.ping(READINESS_TIMEOUT_MS);
      res.json({ status: 'ok' });
    } catch (error) {
      sendError(res, new TemporarilyUnavailableError('The database, or a realm\'s credential store, does not answer.', { cause: error }), undefined);
    }
  });

  app.get('/metrics', async (_req, res) => {
    const text = await metrics.metrics();
    res.setHeader('Cache-Control', 'no-store');
    res.type(metrics.contentType).send(text);
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
