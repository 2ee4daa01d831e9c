import type { Request, RequestHandler, Response } from 'express';
import { credentialIdOf } from '../domain/admin-service';
import type { AdminService, BruteForceStatus } from '../domain/admin-service';
import type { AdminActor, AdminEvent, AuditEvent, EventLog } from '../domain/events';
import type { Credential, FieldMatch, UserFilter, UserRecord } from '../domain/store';
import { InvalidRequestError } from '../errors';
import type { SmtpOptions } from '../config/email-options';
import type { RecoveryService } from '../domain/recovery';
import type { AdminRoles } from '../config/admin-options';
import { answer, contextOf } from './context';

/** Where the admin API is mounted, below any prefix the host chooses (Keycloak's own path). */
export const ADMIN_BASE = '/admin/realms/:realm';

/** What admin handlers are given. */
export interface AdminHandlerDependencies {
  readonly admin: AdminService;
  readonly events: EventLog;
  readonly recovery: RecoveryService;
  /** Keycloak's "Test connection": send a test mail over `smtp` (the realm's when absent) to `to`. */
  readonly testSmtp: (realm: string, smtp: SmtpOptions | undefined, to: string) => Promise<void>;
}

/** One route of the admin API: authenticated, with the role it needs; a body checked against `bodySchema`. */
export interface AdminRoute {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** Below `ADMIN_BASE`. */
  readonly path: string;
  readonly role: keyof AdminRoles;
  /** The request body's schema in `openapi.yaml` (`components/schemas`), for routes that take one. */
  readonly bodySchema?: string;
  readonly handler: (dependencies: AdminHandlerDependencies) => RequestHandler;
}

/** Keycloak's page size when `max` is not given. */
const DEFAULT_MAX = 100;
/** A bound on one page, so one request cannot read a whole realm into memory. */
const MAX_PAGE = 10_000;

/**
 * The query of one request, read strictly: a parameter the route does not know
 * or a value of the wrong type is a 400 naming it, never silently ignored.
 */
class Query {
  readonly #values: Record<string, unknown>;

  constructor(req: Request, known: readonly string[], ignored: readonly string[] = []) {
    this.#values = req.query;
    const unknownNames = Object.keys(this.#values).filter((name) => !known.includes(name) && !ignored.includes(name));
    if (unknownNames.length > 0) {
      throw new InvalidRequestError(`Unknown query parameter ${unknownNames.map((name) => `"${name}"`).join(', ')}; this route takes ${known.map((name) => `"${name}"`).join(', ')}.`);
    }
  }

  /** Every value of a repeatable parameter. */
  list(name: string): string[] | undefined {
    const value = this.#values[name];
    if (value === undefined) return undefined;
    const values = Array.isArray(value) ? value : [value];
    if (!values.every((item): item is string => typeof item === 'string')) throw new InvalidRequestError(`Query parameter "${name}" must be text.`);
    return values;
  }

  string(name: string): string | undefined {
    const values = this.list(name);
    if (values === undefined) return undefined;
    if (values.length > 1) throw new InvalidRequestError(`Query parameter "${name}" may be given once.`);
    return values[0];
  }

  boolean(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw new InvalidRequestError(`Query parameter "${name}" must be true or false, got "${value}".`);
    return value === 'true';
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) throw new InvalidRequestError(`Query parameter "${name}" must be an integer from ${min} to ${max}, got "${value}".`);
    return n;
  }

  /** Keycloak's `dateFrom`/`dateTo`: `yyyy-MM-dd` (the whole day, UTC) or milliseconds since the epoch. */
  date(name: string, endOfDay: boolean): Date | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const date = /^\d+$/.test(value) ? new Date(Number(value)) : /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z`) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new InvalidRequestError(`Query parameter "${name}" must be a date as yyyy-MM-dd or milliseconds since the epoch, got "${value}".`);
    return date;
  }

  page(): { first: number; max: number } {
    return { first: this.integer('first', 0, Number.MAX_SAFE_INTEGER) ?? 0, max: this.integer('max', 0, MAX_PAGE) ?? DEFAULT_MAX };
  }
}

const USER_QUERY = ['username', 'email', 'firstName', 'lastName', 'search', 'exact', 'enabled', 'emailVerified'];
/** Keycloak's parameters that change nothing here (our representation is always the brief one). */
const USER_QUERY_IGNORED = ['briefRepresentation'];

/**
 * Keycloak's user search: the named fields contain the value (`exact=true`:
 * equal it); `search` looks in username, email and names, by prefix, `*foo*`
 * anywhere, `"foo"` exactly. Case-insensitive.
 */
function userFilter(query: Query): UserFilter {
  const exact = query.boolean('exact') ?? false;
  const field = (name: string): FieldMatch | undefined => {
    const value = query.string(name);
    return value === undefined ? undefined : { value, mode: exact ? 'exact' : 'infix' };
  };
  const search = query.string('search');
  let any: FieldMatch | undefined;
  if (search !== undefined && search !== '*' && search !== '') {
    if (exact || /^".*"$/s.test(search)) any = { value: search.replace(/^"(.*)"$/s, '$1'), mode: 'exact' };
    else if (/^\*.*\*$/s.test(search) && search.length > 1) any = { value: search.slice(1, -1), mode: 'infix' };
    else any = { value: search.replace(/\*$/, ''), mode: 'prefix' };
  }
  return {
    username: field('username'),
    email: field('email'),
    firstName: field('firstName'),
    lastName: field('lastName'),
    any,
    enabled: query.boolean('enabled'),
    emailVerified: query.boolean('emailVerified'),
  };
}

/** Keycloak's UserRepresentation of the fields we keep; never a credential. */
export function userRepresentation(user: UserRecord): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    ...(user.email === undefined ? {} : { email: user.email }),
    emailVerified: user.emailVerified,
    ...(user.firstName === undefined ? {} : { firstName: user.firstName }),
    ...(user.lastName === undefined ? {} : { lastName: user.lastName }),
    ...(user.locale === undefined ? {} : { attributes: { locale: [user.locale] } }),
    enabled: user.enabled,
    createdTimestamp: user.createdAt.getTime(),
    requiredActions: [...user.requiredActions],
  };
}

/** Keycloak's CredentialRepresentation, metadata only. */
function credentialRepresentation(credential: Credential): Record<string, unknown> {
  return {
    id: credentialIdOf(credential),
    type: 'password',
    createdDate: credential.createdAt.getTime(),
    temporary: credential.temporary === true,
    ...(credential.expiresAt === undefined ? {} : { expiresAt: credential.expiresAt.getTime() }),
  };
}

function bruteForceRepresentation(status: BruteForceStatus): Record<string, unknown> {
  return {
    numFailures: status.numFailures,
    numTemporaryLockouts: status.numTemporaryLockouts,
    disabled: status.disabled,
    lastFailure: status.lastFailure?.getTime() ?? 0,
    // Keycloak's field; the address of failures is not kept here.
    lastIPFailure: 'n/a',
    ...(status.lockedUntil === undefined ? {} : { lockedUntil: status.lockedUntil.getTime() }),
  };
}

function eventRepresentation(event: AuditEvent): Record<string, unknown> {
  return {
    time: event.time.getTime(),
    type: event.type,
    realmId: event.realm,
    userId: event.userId,
    ...(event.clientId === undefined ? {} : { clientId: event.clientId }),
    ...(event.ip === undefined ? {} : { ipAddress: event.ip }),
    ...(event.error === undefined ? {} : { error: event.error }),
  };
}

function adminEventRepresentation(event: AdminEvent): Record<string, unknown> {
  return {
    time: event.time.getTime(),
    realmId: event.realm,
    authDetails: {
      realmId: event.realm,
      userId: event.actor.userId,
      ...(event.actor.clientId === undefined ? {} : { clientId: event.actor.clientId }),
      ...(event.actor.ip === undefined ? {} : { ipAddress: event.actor.ip }),
    },
    operationType: event.operationType,
    resourceType: event.resourceType,
    resourcePath: event.resourcePath,
    ...(event.error === undefined ? {} : { error: event.error }),
  };
}

/** The realm, the admin making the request, and the path's user id. */
function request(req: Request, res: Response): { realm: string; actor: AdminActor; id: string } {
  const { realm, token, audit } = contextOf(res);
  if (!realm || !token || !audit) throw new Error('handler placed before authentication');
  return { realm: realm.name, actor: { userId: token.subject, clientId: audit.clientId, ip: audit.ip }, id: String(req.params.id) };
}

interface UserBody {
  id?: string;
  username?: string;
  email?: string | null;
  emailVerified?: boolean;
  firstName?: string | null;
  lastName?: string | null;
  enabled?: boolean;
  requiredActions?: string[];
  attributes?: { locale?: string[] };
  createdTimestamp?: number;
  credentials?: { type?: string; value: string; temporary?: boolean }[];
}

interface TicketBody {
  ttl_sec?: number;
  result_url?: string;
  mark_email_as_verified?: boolean;
  include_email_in_redirect?: boolean;
}

/** The actions execute-actions-email can send; Keycloak's others concern sign-in, which is the IdP's. */
const EMAIL_ACTIONS = ['UPDATE_PASSWORD'];

interface PasswordResetBody {
  type?: string;
  value?: string;
  temporary?: boolean;
  temporaryExpiresIn?: number;
  generate?: boolean;
}

/** The admin API, in Keycloak's shapes; `openapi.yaml` documents each of these and a test holds them equal. */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  {
    method: 'get',
    path: '/users',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const query = new Query(req, [...USER_QUERY, 'first', 'max'], USER_QUERY_IGNORED);
      const { realm } = request(req, res);
      const users = await admin.findUsers(realm, userFilter(query), query.page());
      answer(res, 200, users.map(userRepresentation));
    },
  },
  {
    method: 'get',
    path: '/users/count',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const query = new Query(req, USER_QUERY, USER_QUERY_IGNORED);
      answer(res, 200, await admin.countUsers(request(req, res).realm, userFilter(query)));
    },
  },
  {
    method: 'post',
    path: '/users',
    role: 'manage',
    bodySchema: 'AdminUserCreate',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor } = request(req, res);
      const body = req.body as UserBody & { username: string };
      const password = body.credentials?.[0];
      const user = await admin.createUser(
        {
          realm,
          id: body.id,
          username: body.username,
          email: body.email ?? undefined,
          emailVerified: body.emailVerified ?? false,
          firstName: body.firstName ?? undefined,
          lastName: body.lastName ?? undefined,
          locale: body.attributes?.locale?.[0],
          // Keycloak's default: a user created without "enabled" is disabled.
          enabled: body.enabled ?? false,
          requiredActions: body.requiredActions ?? [],
          password: password?.value,
          temporary: password?.temporary ?? false,
        },
        actor,
      );
      res.location(`${req.baseUrl}/users/${encodeURIComponent(user.id)}`);
      answer(res, 201);
    },
  },
  {
    method: 'get',
    path: '/users/:id',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const { realm, id } = request(req, res);
      answer(res, 200, userRepresentation(await admin.getUser(realm, id)));
    },
  },
  {
    method: 'put',
    path: '/users/:id',
    role: 'manage',
    bodySchema: 'AdminUserUpdate',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = request(req, res);
      const body = req.body as UserBody;
      // Scripts send back what GET returned: its read-only fields are accepted when they agree.
      if (body.id !== undefined && body.id !== id) throw new InvalidRequestError(`"id" is "${body.id}" but the path names user "${id}"; a user's id cannot change.`);
      const { username, email, emailVerified, firstName, lastName, enabled, requiredActions, attributes } = body;
      // Keycloak replaces the attributes given: without `locale` in them, the user has none.
      const locale = attributes === undefined ? undefined : (attributes.locale?.[0] ?? null);
      await admin.updateUser(realm, id, { username, email, emailVerified, firstName, lastName, locale, enabled, requiredActions }, actor);
      answer(res, 204);
    },
  },
  {
    method: 'delete',
    path: '/users/:id',
    role: 'manage',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = request(req, res);
      await admin.deleteUser(realm, id, actor);
      answer(res, 204);
    },
  },
  {
    method: 'put',
    path: '/users/:id/reset-password',
    role: 'manage',
    bodySchema: 'AdminPasswordReset',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = request(req, res);
      const body = req.body as PasswordResetBody;
      const temporary = body.temporary ?? false;
      const generated = await admin.resetPassword(realm, id, { value: body.value, generate: body.generate, temporary, temporaryExpiresIn: body.temporaryExpiresIn }, actor);
      if (generated === undefined) answer(res, 204);
      else answer(res, 200, { type: 'password', value: generated, temporary });
    },
  },
  {
    method: 'put',
    path: '/users/:id/execute-actions-email',
    role: 'manage',
    bodySchema: 'ExecuteActionsRequest',
    handler: ({ recovery }) => async (req, res) => {
      const query = new Query(req, ['lifespan', 'client_id', 'redirect_uri']);
      const { realm, id } = request(req, res);
      const actions = req.body as string[];
      const unsupported = actions.filter((action) => !EMAIL_ACTIONS.includes(action));
      if (unsupported.length > 0) {
        throw new InvalidRequestError(`Only ${EMAIL_ACTIONS.join(', ')} can be sent here, not ${unsupported.map((action) => `"${action}"`).join(', ')}.`);
      }
      const { audit } = contextOf(res);
      await recovery.sendResetEmail(
        realm,
        id,
        { lifespanSeconds: query.integer('lifespan', 60, 86_400 * 30), clientId: query.string('client_id'), redirectUri: query.string('redirect_uri') },
        audit ?? {},
      );
      answer(res, 204);
    },
  },
  {
    method: 'post',
    path: '/users/:id/password-change-ticket',
    role: 'manage',
    bodySchema: 'PasswordChangeTicketRequest',
    handler: ({ recovery }) => async (req, res) => {
      const { realm, id } = request(req, res);
      const body = req.body as TicketBody;
      const ticket = await recovery.createTicket(realm, id, {
        ttlSeconds: body.ttl_sec,
        resultUrl: body.result_url,
        markEmailVerified: body.mark_email_as_verified ?? false,
        includeEmail: body.include_email_in_redirect ?? false,
      });
      answer(res, 201, { ticket });
    },
  },
  {
    method: 'post',
    path: '/testSMTPConnection',
    role: 'manageRealm',
    bodySchema: 'TestSmtpRequest',
    handler: ({ testSmtp }) => async (req, res) => {
      const { realm } = request(req, res);
      const { to, ...settings } = req.body as SmtpOptions & { to?: string };
      const email = contextOf(res).token?.claims.email;
      const recipient = to ?? (typeof email === 'string' ? email : undefined);
      if (recipient === undefined) throw new InvalidRequestError('Say where the test mail goes: "to", or a token with an email claim (Keycloak sends it to the admin).');
      await testSmtp(realm, Object.keys(settings).length > 0 ? settings : undefined, recipient);
      answer(res, 204);
    },
  },
  {
    method: 'get',
    path: '/users/:id/credentials',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const { realm, id } = request(req, res);
      answer(res, 200, (await admin.credentials(realm, id)).map(credentialRepresentation));
    },
  },
  {
    method: 'delete',
    path: '/users/:id/credentials/:credentialId',
    role: 'manage',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = request(req, res);
      await admin.deleteCredential(realm, id, String(req.params.credentialId), actor);
      answer(res, 204);
    },
  },
  {
    method: 'get',
    path: '/attack-detection/brute-force/users/:id',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const { realm, id } = request(req, res);
      answer(res, 200, bruteForceRepresentation(await admin.bruteForceStatus(realm, id)));
    },
  },
  {
    method: 'delete',
    path: '/attack-detection/brute-force/users/:id',
    role: 'manage',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = request(req, res);
      await admin.clearBruteForce(realm, id, actor);
      answer(res, 204);
    },
  },
  {
    method: 'get',
    path: '/events',
    role: 'viewEvents',
    handler: ({ events }) => async (req, res) => {
      const query = new Query(req, ['type', 'user', 'client', 'ipAddress', 'dateFrom', 'dateTo', 'first', 'max']);
      const found = await events.events(request(req, res).realm, {
        types: query.list('type'),
        userId: query.string('user'),
        clientId: query.string('client'),
        ip: query.string('ipAddress'),
        from: query.date('dateFrom', false),
        to: query.date('dateTo', true),
        ...query.page(),
      });
      answer(res, 200, found.map(eventRepresentation));
    },
  },
  {
    method: 'get',
    path: '/admin-events',
    role: 'viewEvents',
    handler: ({ events }) => async (req, res) => {
      const query = new Query(req, ['operationTypes', 'resourceTypes', 'resourcePath', 'authUser', 'authClient', 'authIpAddress', 'dateFrom', 'dateTo', 'first', 'max']);
      const found = await events.adminEvents(request(req, res).realm, {
        operationTypes: query.list('operationTypes'),
        resourceTypes: query.list('resourceTypes'),
        resourcePath: query.string('resourcePath'),
        authUserId: query.string('authUser'),
        authClientId: query.string('authClient'),
        authIp: query.string('authIpAddress'),
        from: query.date('dateFrom', false),
        to: query.date('dateTo', true),
        ...query.page(),
      });
      answer(res, 200, found.map(adminEventRepresentation));
    },
  },
];
