import express from 'express';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { Logger } from 'pino';
import proxyaddr from 'proxy-addr';
import { createTokenVerifier } from '../auth/token-verifier';
import type { TokenTrust, TokenVerifier } from '../auth/token-verifier';
import { createAdminTokenVerifier } from '../auth/admin-token-verifier';
import type { AccountService } from '../domain/account-service';
import type { AuditContext } from '../domain/events';
import type { RecoveryService } from '../domain/recovery';
import { ADMIN_BASE, ADMIN_ROUTES } from '../http/admin-routes';
import type { AdminHandlerDependencies } from '../http/admin-routes';
import { CONSOLE_BASE, consoleRouter } from '../http/console-routes';
import { contextOf } from '../http/context';
import { errorHandler } from '../http/error-handler';
import {
  admitAdmin,
  admitLoginServer,
  admitUser,
  answerOptions,
  apiSecurityHeaders,
  authenticate,
  parseJson,
  realmCors,
  bearerRoute,
  refuseTokensOutsideHeader,
  requestBudget,
  requestId,
  requireAdminRole,
  requireJson,
  requireRecentAuthentication,
  resolveRealm,
  validateBody,
  whenReady,
} from '../http/middleware';
import { LOGIN_CHECK_PATH, LOGIN_CHECK_SCHEMA, loginCheckHandler } from '../http/login-check-routes';
import { RECOVERY_JSON_ROUTES, RESET_PAGE_PATH, resetPageRouter } from '../http/recovery-routes';
import { ACCOUNT_BASE, ACCOUNT_ROUTES } from '../http/routes';
import { componentValidator, createContractAjv, loadOpenApi } from '../http/schemas';
import type { ServiceMetrics } from '../metrics';
import type { ResolvedRealm } from '../config/realm-options';
import type { ResolvedOptions } from '../options';

/** What the routers are built from. */
export interface RoutersDependencies {
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Resolves once the database is reachable; every request waits for it. */
  readonly ready: () => Promise<void>;
  readonly accounts: AccountService;
  readonly recovery: RecoveryService;
  readonly administration: AdminHandlerDependencies;
  /** Told of each login-check call. */
  readonly noteLoginServer: (realm: string, clientId: string | undefined) => void;
}

/** The middleware every router shares: realm, readiness, token, body. */
interface Chains {
  readonly realms: RequestHandler[];
  readonly whenReady: RequestHandler;
  readonly clientIp: (req: Request) => string | undefined;
  readonly verifierOf: (realm: ResolvedRealm) => TokenVerifier;
  readonly adminVerifierOf: (realm: ResolvedRealm) => TokenVerifier;
  /** A JSON body checked against a schema of `openapi.yaml`. */
  readonly jsonBody: (schema: string) => RequestHandler[];
  readonly errors: express.ErrorRequestHandler;
}

/** The token verifiers of the account API (each realm's own) and of the admin API (with each realm's admin realm). */
interface Verifiers {
  readonly verifierOf: (realm: ResolvedRealm) => TokenVerifier;
  readonly adminVerifierOf: (realm: ResolvedRealm) => TokenVerifier;
}

/**
 * One token verifier per realm, each with its own key set cache; one per
 * admin realm, shared by the realms it administers.
 */
function tokenVerifiers(resolved: ResolvedOptions, metrics: ServiceMetrics): Verifiers {
  const verifier = (label: string, trust: TokenTrust): TokenVerifier =>
    createTokenVerifier(trust, {
      clockToleranceSeconds: resolved.clockToleranceSeconds,
      jwks: resolved.jwks,
      onJwks: (outcome) => {
        metrics.jwks(label, outcome);
      },
    });
  const own = new Map<string, TokenVerifier>();
  const admins = new Map<string, TokenVerifier>();
  const forAdmin = new Map<string, TokenVerifier>();
  for (const realm of resolved.realms.values()) {
    const ownVerifier = verifier(realm.name, realm);
    own.set(realm.name, ownVerifier);
    const admin = realm.adminRealm;
    let adminVerifier: TokenVerifier | undefined;
    if (admin) {
      // Its administrators' tokens are Keycloak's admin-cli tokens: no audience of ours, always `typ: Bearer`.
      const key = `${admin.issuer} ${admin.jwksUri}`;
      adminVerifier = admins.get(key) ?? verifier(admin.name, { issuer: admin.issuer, jwksUri: admin.jwksUri, audience: undefined, acceptPlainJwtAccessTokens: false });
      admins.set(key, adminVerifier);
    }
    forAdmin.set(
      realm.name,
      createAdminTokenVerifier(realm.name, { issuer: realm.issuer, verify: ownVerifier }, admin && adminVerifier ? { issuer: admin.issuer, verify: adminVerifier } : undefined),
    );
  }
  const lookup = (verifiers: Map<string, TokenVerifier>) => (realm: ResolvedRealm): TokenVerifier => {
    const found = verifiers.get(realm.name);
    if (!found) throw new Error(`no verifier for realm ${realm.name}`);
    return found;
  };
  return { verifierOf: lookup(own), adminVerifierOf: lookup(forAdmin) };
}

function chains(resolved: ResolvedOptions, { logger, metrics, ready }: RoutersDependencies): Chains {
  const trust = proxyaddr.compile([...resolved.trustedProxies]);
  const ajv = createContractAjv(loadOpenApi());
  return {
    realms: [resolveRealm(resolved.realms), requestBudget(resolved.databaseTimeoutMs)],
    whenReady: whenReady(ready),
    clientIp: (req) => proxyaddr(req, trust),
    ...tokenVerifiers(resolved, metrics),
    jsonBody: (schema) => [requireJson, parseJson(resolved.bodyLimitBytes), validateBody(componentValidator(ajv, schema))],
    errors: errorHandler(logger, (res: Response) => contextOf(res).realm?.name),
  };
}

/** Every path below `ACCOUNT_BASE` with the methods it answers; each answers `OPTIONS` too. */
export function accountPathMethods(): ReadonlyMap<string, readonly string[]> {
  const paths = new Map<string, string[]>();
  const add = (path: string, method: string): void => {
    paths.set(path, [...(paths.get(path) ?? []), method]);
  };
  for (const route of RECOVERY_JSON_ROUTES) add(route.path, 'POST');
  add(RESET_PAGE_PATH, 'GET');
  add(RESET_PAGE_PATH, 'POST');
  add(LOGIN_CHECK_PATH, 'POST');
  for (const route of ACCOUNT_ROUTES) add(route.path, route.method.toUpperCase());
  return paths;
}

/**
 * Leave a request for none of `paths` (Express patterns, matched as Express
 * does: any case, an optional trailing slash) to the host at once, untouched:
 * no request id, no headers, no realm or token check. The host answers it
 * (the standalone app with its `404 not_found`).
 */
function onlyPaths(paths: readonly string[]): RequestHandler {
  const patterns = paths.map((path) => new RegExp(`^${path.replace(/:[A-Za-z]+/g, '[^/]+')}/?$`, 'i'));
  return (req, _res, next) => {
    if (patterns.some((pattern) => pattern.test(req.path))) next();
    else next('router');
  };
}

/** The account API and recovery, below `ACCOUNT_BASE`. */
function accountRouter(resolved: ResolvedOptions, chain: Chains, { accounts, recovery, noteLoginServer }: RoutersDependencies): Router {
  const account = express.Router({ mergeParams: true });
  // Everything here is scoped to the account base path and its routes, so the host's other routes never see it.
  account.use(onlyPaths([...accountPathMethods().keys()]), requestId, apiSecurityHeaders, ...chain.realms, realmCors);
  // Preflights need neither the database nor a token.
  for (const [path, methods] of accountPathMethods()) account.options(path, answerOptions(methods));
  account.use(chain.whenReady);
  const audit = (req: Request): AuditContext => ({ ip: chain.clientIp(req) });
  // Recovery needs no token: the mail is the proof.
  for (const route of RECOVERY_JSON_ROUTES) account.post(route.path, ...chain.jsonBody(route.bodySchema), route.handler(recovery, audit));
  account.use(resetPageRouter(recovery, audit, { secureCookies: resolved.publicUrl?.startsWith('https:') === true, bodyLimitBytes: resolved.bodyLimitBytes }));
  // Login servers, with a client-credentials token of their own; never a user's.
  account.post(LOGIN_CHECK_PATH, bearerRoute, refuseTokensOutsideHeader, authenticate(chain.verifierOf, admitLoginServer, chain.clientIp), ...chain.jsonBody(LOGIN_CHECK_SCHEMA), loginCheckHandler(accounts, noteLoginServer));
  const authentication = [bearerRoute, refuseTokensOutsideHeader, authenticate(chain.verifierOf, admitUser(accounts), chain.clientIp)];
  for (const route of ACCOUNT_ROUTES) {
    if (route.method === 'get') {
      account.get(route.path, ...authentication, route.handler(accounts));
      continue;
    }
    account.post(route.path, ...authentication, ...(route.stepUp ? [requireRecentAuthentication] : []), ...chain.jsonBody(route.bodySchema), route.handler(accounts));
  }
  account.use(chain.errors);
  return account;
}

/** Keycloak's admin API, below `ADMIN_BASE`: every route authenticated, each with the role it needs. */
function adminRouter(chain: Chains, administration: AdminHandlerDependencies): Router {
  const admin = express.Router({ mergeParams: true });
  // No browser calls the admin API across origins: OPTIONS is left to the host (404 standalone).
  admin.options('/{*path}', (_req, _res, next) => {
    next('router');
  });
  admin.use(onlyPaths(ADMIN_ROUTES.map((route) => route.path)), requestId, apiSecurityHeaders, bearerRoute, ...chain.realms, chain.whenReady, refuseTokensOutsideHeader, authenticate(chain.adminVerifierOf, admitAdmin, chain.clientIp));
  for (const route of ADMIN_ROUTES) {
    admin[route.method](route.path, requireAdminRole(route.role, { anyAdminRole: route.anyAdminRole === true }), ...(route.bodySchema ? chain.jsonBody(route.bodySchema) : []), route.handler(administration));
  }
  admin.use(chain.errors);
  return admin;
}

/** The router a host mounts: the account API, the admin API and the admin console, each with its own middleware chain. */
export function assembleRouters(resolved: ResolvedOptions, dependencies: RoutersDependencies): Router {
  const chain = chains(resolved, dependencies);
  const router = express.Router();
  router.use(ACCOUNT_BASE, accountRouter(resolved, chain, dependencies));
  router.use(ADMIN_BASE, adminRouter(chain, dependencies.administration));
  const console = consoleRouter(resolved.realms, chain.errors);
  if (console) router.use(CONSOLE_BASE, console);
  return router;
}
