import type { Response } from 'express';
import type { VerifiedToken } from '../auth/token-verifier';
import type { AuditContext } from '../domain/events';
import type { UserRecord } from '../domain/store';
import type { ResolvedRealm } from '../options';

/** What the middleware chain learns about a request, kept on `res.locals` under one key. */
export interface RequestContext {
  realm?: ResolvedRealm;
  token?: VerifiedToken;
  user?: UserRecord;
  audit?: AuditContext;
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
