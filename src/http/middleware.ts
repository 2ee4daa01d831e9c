import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import contentType from 'content-type';
import cors from 'cors';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Passport } from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import type { ValidateFunction } from 'ajv';
import type { TokenVerifier, VerifiedToken } from '../auth/token-verifier';
import type { AccountService } from '../domain/account-service';
import { DatabaseBudget } from '../domain/database-budget';
import {
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
  RealmNotFoundError,
  TemporarilyUnavailableError,
  UnsupportedMediaTypeError,
} from '../errors';
import { KEYCLOAK_REALM_ADMIN_ROLES } from '../config/admin-options';
import type { AdminRoles } from '../config/admin-options';
import type { ResolvedRealm } from '../config/realm-options';
import { budgetOf, contextOf } from './context';
import type { RequestContext } from './context';
import { describeErrors } from './schemas';

/** A caller's request id is kept when it is this well-formed. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-Id` if well-formed, else a new UUID. */
export function requestIdOf(req: Request): string {
  const given = req.get('x-request-id');
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Echo or assign `X-Request-Id`, unless the host already did. */
export const requestId: RequestHandler = (req, res, next) => {
  if (!res.hasHeader('X-Request-Id')) res.setHeader('X-Request-Id', requestIdOf(req));
  next();
};

/**
 * Give the request its time for the database: it may wait on it for
 * `budgetMs` in all, each operation getting what is left (then 503).
 */
export function requestBudget(budgetMs: number): RequestHandler {
  return (_req, res, next) => {
    contextOf(res).databaseBudget ??= DatabaseBudget.of(budgetMs);
    next();
  };
}

/**
 * Wait for the router to be ready (connected, indexes made), no longer than
 * the request's database budget: 503 when it is not.
 */
export function whenReady(ready: () => Promise<void>): RequestHandler {
  return async (_req, res, next) => {
    const starting = ready();
    // When the budget runs out first, a later failure of this attempt is for the next request to see.
    starting.catch(() => undefined);
    const outcome = await budgetOf(res).bound(starting.then(() => 'ready' as const));
    if (outcome !== 'ready') throw new TemporarilyUnavailableError('The credential store is temporarily unavailable; retry later.');
    next();
  };
}

/**
 * CORS for SPA account pages: an origin on the realm's allow-list gets the
 * preflight and response headers (Authorization allowed; Retry-After,
 * WWW-Authenticate and X-Request-Id readable); any other origin gets none.
 * Bearer tokens only, so no credentials mode.
 */
export const realmCors: RequestHandler = cors((req, callback) => {
  const origin = req.headers.origin;
  const allowed = contextOf((req as Request).res as Response).realm?.corsOrigins ?? [];
  callback(null, {
    origin: origin !== undefined && allowed.includes(origin) ? origin : false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['Retry-After', 'WWW-Authenticate', 'X-Request-Id'],
    maxAge: 600,
    // `answerOptions` ends the preflight, with the same headers as every answer and `no-store`.
    preflightContinue: true,
  });
});

/** An API's CSP: nothing loads, nothing frames it. The hosted reset page sets its own. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** The router's own security headers, on every answer it gives, mounted or standalone. */
export const apiSecurityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', API_CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  next();
};

/**
 * `OPTIONS` of a path that answers `methods`: 204 with `Allow`, never cached;
 * a preflight from an allowed origin also has the CORS headers `realmCors` set.
 */
export function answerOptions(methods: readonly string[]): RequestHandler {
  const allow = [...methods, 'OPTIONS'].join(', ');
  return (_req, res) => {
    res.status(204).set({ Allow: allow, 'Cache-Control': 'no-store' }).end();
  };
}

/** Resolve `:realm`; an unknown realm is 404 before anything else is looked at. */
export function resolveRealm(realms: ReadonlyMap<string, ResolvedRealm>): RequestHandler {
  return (req, res, next) => {
    const name = String(req.params.realm);
    const realm = realms.get(name);
    if (!realm) throw new RealmNotFoundError(name);
    contextOf(res).realm = realm;
    next();
  };
}

/** Marks the route as bearer-protected, first in its chain, so that each of its errors carries its challenge. */
export const bearerRoute: RequestHandler = (_req, res, next) => {
  contextOf(res).bearer = true;
  next();
};

function hasAccessToken(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'access_token');
}

/**
 * RFC 6750 allows tokens in the query and the body; we never honour them
 * (they end up in logs and caches). Alone they count as no token; next to a
 * header they make the request malformed (section 3.1: more than one method).
 */
export const refuseTokensOutsideHeader: RequestHandler = (req, _res, next) => {
  if (hasAccessToken(req.query) || hasAccessToken(req.body)) {
    if (req.get('authorization') !== undefined) {
      throw new InvalidRequestError('Send the token in the Authorization header only, not also in the query or body.');
    }
    throw new MissingTokenError();
  }
  next();
};

/** 403 when the token lacks what the realm requires of its client and scopes. */
function authorize(realm: ResolvedRealm, token: VerifiedToken): void {
  if (realm.allowedClients && (token.clientId === undefined || !realm.allowedClients.includes(token.clientId))) {
    throw new InsufficientScopeError('The token was issued to a client this realm does not allow here (azp).');
  }
  const scope = token.claims.scope;
  const granted = new Set(typeof scope === 'string' ? scope.split(' ') : []);
  const missing = realm.requiredScopes.filter((name) => !granted.has(name));
  if (missing.length > 0) {
    throw new InsufficientScopeError(`The token lacks the required scope ${missing.map((name) => `"${name}"`).join(', ')}.`, realm.requiredScopes.join(' '));
  }
  const missingRoles = [
    ...realm.requiredRealmRoles.filter((role) => !rolesIn(token.claims.realm_access).includes(role)),
    ...Object.entries(realm.requiredClientRoles).flatMap(([client, roles]) => {
      const granted = rolesIn((token.claims.resource_access as Record<string, unknown> | undefined)?.[client]);
      return roles.filter((role) => !granted.includes(role)).map((role) => `${client}/${role}`);
    }),
  ];
  if (missingRoles.length > 0) {
    throw new InsufficientScopeError(`The token lacks the required role ${missingRoles.map((name) => `"${name}"`).join(', ')}.`);
  }
}

/** Keycloak's `{ roles: [...] }` shape of `realm_access` and of each `resource_access` entry. */
function rolesIn(access: unknown): string[] {
  const roles = typeof access === 'object' && access !== null ? (access as { roles?: unknown }).roles : undefined;
  return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
}

/**
 * Keycloak's `maxAuthAge` as an RFC 9470 step-up: the user must have signed in
 * (`auth_time`) within the realm's bound, else 401 with `max_age` so the
 * client re-authenticates.
 */
export const requireRecentAuthentication: RequestHandler = (_req, res, next) => {
  const { realm, token } = contextOf(res);
  const maxAge = realm?.maxAuthAge;
  if (maxAge !== undefined) {
    const authTime = token?.claims.auth_time;
    if (typeof authTime !== 'number' || Date.now() / 1000 - authTime > maxAge) throw new InsufficientUserAuthenticationError(maxAge);
  }
  next();
};

/**
 * `iat` counts whole seconds: a token of the change's own second may predate
 * it, so it is refused too; one of the next second is after it. A token
 * without `iat` cannot show it is newer.
 */
export function issuedBeforeChange(issuedAt: number | undefined, changedAt: Date | undefined): boolean {
  if (changedAt === undefined) return false;
  return issuedAt === undefined || issuedAt <= Math.floor(changedAt.getTime() / 1000);
}

/**
 * What an account API token must also be: the subject an enabled user of the
 * realm, the token newer than their last password change, its client, scopes
 * and roles those the realm requires.
 */
export function admitUser(accounts: AccountService): Admit {
  return async (realm, verified, context) => {
    const user = await (context.databaseBudget ? accounts.within(context.databaseBudget) : accounts).findActiveUser(realm.name, verified.subject);
    if (!user) throw new InvalidTokenError('The token\'s subject is not an enabled user of this realm.');
    if (realm.revokeTokensOnPasswordChange && issuedBeforeChange(verified.issuedAt, user.passwordChangedAt)) {
      throw new InvalidTokenError('The token was issued before the password was last changed.');
    }
    authorize(realm, verified);
    context.user = user;
  };
}

/**
 * A login server's token (for `login-check`): a client-credentials token of
 * the realm whose service account holds the realm's `loginCheckRole`, as a
 * realm role or a client role of any client. A token of a user's session
 * (Keycloak's `sid`, or `session_state` before Keycloak 25) is refused even
 * with the role: the endpoint answers questions about every user's password.
 */
export const admitLoginServer: Admit = (realm, token) => {
  const claims = token.claims;
  if (claims.sid !== undefined || claims.session_state !== undefined) {
    throw new InsufficientScopeError('login-check takes a login server\'s client-credentials token, not the token of a user\'s session.');
  }
  const access = (claims.resource_access ?? {}) as Record<string, unknown>;
  const held = [...rolesIn(claims.realm_access), ...Object.values(access).flatMap(rolesIn)];
  if (!held.includes(realm.loginCheckRole)) {
    throw new InsufficientScopeError(`The token lacks the role "${realm.loginCheckRole}" (a realm role, or a client role) that login-check needs.`, realm.loginCheckRole);
  }
  return Promise.resolve();
};

/** Admin tokens: verified like any other; their subject need not be a user here. Roles are checked per route. */
export const admitAdmin: Admit = () => Promise.resolve();

/** Decides, after the signature and claims verified, whether the token may go on; throws to refuse. */
export type Admit = (realm: ResolvedRealm, token: VerifiedToken, context: RequestContext) => Promise<void>;

/**
 * Bearer authentication through passport-http-bearer, on a Passport instance
 * of this router's own. The token must verify for the path's realm and be
 * admitted by `admit`.
 */
export function authenticate(verifierOf: (realm: ResolvedRealm) => TokenVerifier, admit: Admit, clientIp: (req: Request) => string | undefined): RequestHandler {
  const passport = new Passport();
  passport.use(
    'bearer',
    new BearerStrategy({ passReqToCallback: true }, (req: Request, token: string, done: (error: unknown, user?: object | false) => void) => {
      const context = contextOf(req.res as Response);
      const realm = context.realm;
      if (!realm) {
        done(new Error('realm not resolved before authentication'));
        return;
      }
      verifierOf(realm)(token)
        .then(async (verified) => {
          await admit(realm, verified, context);
          context.token = verified;
          context.audit = { clientId: verified.clientId, ip: clientIp(req) };
          done(null, verified);
        })
        .catch(done);
    }),
  );
  return (req: Request, res: Response, next: NextFunction) => {
    const handler = passport.authenticate('bearer', { session: false }, (error: unknown, user: unknown, _challenge: unknown, status: unknown) => {
      if (error) {
        next(error);
        return;
      }
      if (!user) {
        // The strategy fails with 400 for a malformed header, else with its challenge (no token).
        next(status === 400 ? new InvalidRequestError('The Authorization header is malformed; expected Bearer, one space and the token.') : new MissingTokenError());
        return;
      }
      next();
    }) as RequestHandler;
    handler(req, res, next);
  };
}

/** The admin roles a token holds on the path's realm, and where they were looked for (for a refusal to name). */
interface AdminGrants {
  readonly held: ReadonlySet<string>;
  readonly where: string;
  /** The admin realm's name when the token is one of its administrators'. */
  readonly adminRealm: string | undefined;
}

/**
 * Where Keycloak puts a token's rights on a realm: for its admin realm's
 * administrators (`master`), client roles of `<realm>-realm` and nothing else
 * (Keycloak's `MgmtPermissions.hasOneAdminRole`); for the realm's own, client
 * roles of `realm-management` (`<name>-realm` in the admin realm itself), or
 * realm roles or scopes of the same name for other identity providers.
 */
function adminGrants(realm: ResolvedRealm, token: VerifiedToken): AdminGrants {
  const claims = token.claims;
  const access = claims.resource_access as Record<string, unknown> | undefined;
  const admin = realm.adminRealm;
  if (admin !== undefined && claims.iss === admin.issuer) {
    return { held: new Set(rolesIn(access?.[admin.roleClient])), where: `a client role of ${admin.roleClient} in realm ${admin.name}`, adminRealm: admin.name };
  }
  const scope = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  return {
    held: new Set([...rolesIn(access?.[realm.managementClient]), ...rolesIn(claims.realm_access), ...scope]),
    where: `a client role of ${realm.managementClient}, or a realm role or scope of that name`,
    adminRealm: undefined,
  };
}

/** The roles that grant `kind`: `manage` includes `view`, `manageRealm` includes `viewRealm`, as in Keycloak. */
function rolesGranting(roles: AdminRoles, kind: keyof AdminRoles): string[] {
  if (kind === 'view') return [roles.view, roles.manage];
  if (kind === 'viewRealm') return [roles.viewRealm, roles.manageRealm];
  return [roles[kind]];
}

/** Whether the request's token holds `kind` on the path's realm; for handlers that answer more to some roles. */
export function holdsAdminRole(res: Response, kind: keyof AdminRoles): boolean {
  const { realm, token } = contextOf(res);
  if (!realm || !token) throw new Error('role check placed before authentication');
  const { held } = adminGrants(realm, token);
  return rolesGranting(realm.adminRoles, kind).some((role) => held.has(role));
}

/**
 * The admin API's roles, found where Keycloak puts them (`adminGrants`).
 * `anyAdminRole` also lets through a token with any admin role of the realm
 * (Keycloak's, or ours), for routes that answer it with less.
 */
export function requireAdminRole(kind: keyof AdminRoles, options: { anyAdminRole?: boolean } = {}): RequestHandler {
  return (_req, res, next) => {
    const { realm, token } = contextOf(res);
    if (!realm || !token) throw new Error('role check placed before authentication');
    const { held, where, adminRealm } = adminGrants(realm, token);
    const { view, manage, viewEvents, manageRealm, viewRealm } = realm.adminRoles;
    const anyRole = [...KEYCLOAK_REALM_ADMIN_ROLES, view, manage, viewEvents, manageRealm, viewRealm];
    if (rolesGranting(realm.adminRoles, kind).some((role) => held.has(role)) || (options.anyAdminRole === true && anyRole.some((role) => held.has(role)))) {
      next();
      return;
    }
    const role = realm.adminRoles[kind];
    if (adminRealm !== undefined && held.size === 0) {
      throw new InsufficientScopeError(
        `The token is an administrator's of realm ${adminRealm} without rights on realm ${realm.name}: it has no client roles of ${realm.adminRealm?.roleClient ?? ''} (this request needs "${role}").`,
        role,
      );
    }
    throw new InsufficientScopeError(`The token lacks the role "${role}" (${where}) that this admin request needs.`, role);
  };
}

/**
 * 415 for anything but UTF-8 JSON (RFC 8259 section 8.1); checked after
 * authentication so nothing leaks to a caller without a token.
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) throw new UnsupportedMediaTypeError('The request body must be application/json.');
  const charset = contentType.parse(req).parameters.charset?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeError('The request body must be UTF-8 encoded JSON.');
  }
  next();
};

/** Parse JSON unless the host did already; refuses invalid UTF-8 instead of replacing it. */
export function parseJson(limitBytes: number): RequestHandler {
  const parser = express.json({
    limit: limitBytes,
    type: 'application/json',
    verify: (_req, _res, buffer) => {
      if (!isUtf8(buffer)) throw Object.assign(new Error('invalid UTF-8'), { type: 'entity.verify.failed', status: 400 });
    },
  });
  return (req, res, next) => {
    if (req.body !== undefined) {
      next();
      return;
    }
    parser(req, res, next);
  };
}

/** Validate the body against a schema of `openapi.yaml`. */
export function validateBody(validate: ValidateFunction): RequestHandler {
  return (req, _res, next) => {
    if (!validate(req.body)) throw new InvalidRequestError(describeErrors(validate.errors ?? []));
    next();
  };
}
