import type { RequestHandler } from 'express';
import type { AccountService, LoginIdentifier } from '../domain/account-service';
import { userRepresentation } from './admin/users';
import { answer, budgetOf, contextOf } from './context';

/** Below `ACCOUNT_BASE`: a login server asks whether a password opens a user's account. */
export const LOGIN_CHECK_PATH = '/login-check';

/** The request body's schema in `openapi.yaml`. */
export const LOGIN_CHECK_SCHEMA = 'LoginCheckRequest';

type LoginCheckBody = LoginIdentifier & { readonly password: string };

/**
 * `POST login-check`: `200 {"valid": true, "user", "requiredActions"}` for the
 * right password of an enabled user, `200 {"valid": false}` for anything else
 * (a wrong password, an unknown or disabled user), 429 while the user is locked.
 * `onCall` hears of each call, so the service knows a login server asks.
 */
export function loginCheckHandler(accounts: AccountService, onCall: (realm: string, clientId: string | undefined) => void): RequestHandler {
  return async (req, res) => {
    const { realm, audit } = contextOf(res);
    if (!realm || !audit) throw new Error('handler placed before authentication');
    onCall(realm.name, audit.clientId);
    const { password, ...login } = req.body as LoginCheckBody;
    const check = await accounts.within(budgetOf(res)).checkLogin(realm.name, login, password, audit);
    if (!check.valid) {
      answer(res, 200, { valid: false });
      return;
    }
    answer(res, 200, { valid: true, user: userRepresentation(check.user), requiredActions: [...check.requiredActions] });
  };
}
