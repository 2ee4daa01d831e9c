import type { Response } from 'express';
import type { VerifiedToken } from '../auth/token-verifier';
import type { DatabaseBudget } from '../domain/database-budget';
import type { AuditContext } from '../domain/events';
import type { UserRecord } from '../domain/store';
import type { ResolvedRealm } from '../config/realm-options';

/** What the middleware chain learns about a request, kept on `res.locals` under one key. */
export interface RequestContext {
  realm?: ResolvedRealm;
  /** The route takes a bearer token: its malformed requests carry an `invalid_request` challenge. */
  bearer?: true;
  token?: VerifiedToken;
  user?: UserRecord;
  audit?: AuditContext;
  /** The request's time for the database; set first thing by `requestBudget`. */
  databaseBudget?: DatabaseBudget;
  /** Aborted when the client goes away before its answer was written; made on first use. */
  signal?: AbortSignal;
}

const KEY = 'passwordResources';

export function contextOf(res: Response): RequestContext {
  const locals = res.locals as Record<string, RequestContext | undefined>;
  let context = locals[KEY];
  if (!context) {
    context = {};
    locals[KEY] = context;
  }
  return context;
}

/** The authenticated user and realm; only called by handlers placed after authentication. */
export function authenticated(res: Response): { realm: ResolvedRealm; token: VerifiedToken; user: UserRecord; audit: AuditContext } {
  const { realm, token, user, audit } = contextOf(res);
  if (!realm || !token || !user || !audit) throw new Error('handler placed before authentication');
  return { realm, token, user, audit };
}

/** The realm the path names; only called by handlers placed after `resolveRealm`. */
export function realmOf(res: Response): ResolvedRealm {
  const realm = contextOf(res).realm;
  if (!realm) throw new Error('handler placed before resolveRealm');
  return realm;
}

/**
 * Answer with `status`, and `body` as JSON when given. Never cached: the
 * answers carry users, verdicts on passwords and links.
 */
export function answer(res: Response, status: number, body?: unknown): void {
  res.status(status).set('Cache-Control', 'no-store');
  if (body === undefined) res.end();
  else res.json(body);
}


/** The request's time for the database; only called by handlers placed after `requestBudget`. */
export function budgetOf(res: Response): DatabaseBudget {
  const budget = contextOf(res).databaseBudget;
  if (!budget) throw new Error('handler placed before requestBudget');
  return budget;
}

/**
 * A signal that aborts when the client goes away before the answer is
 * written (the connection closed early), so the domain can drop work nobody
 * will read, a queued hash first of all.
 */
export function clientSignal(res: Response): AbortSignal {
  const context = contextOf(res);
  if (context.signal) return context.signal;
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  context.signal = controller.signal;
  return controller.signal;
}
