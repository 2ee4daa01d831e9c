import type { RequestHandler } from 'express';
import type { AccountService } from '../domain/account-service';
import { answer, authenticated, budgetOf, clientSignal } from './context';

/** Where the account API is mounted, below any prefix the host chooses. */
export const ACCOUNT_BASE = '/realms/:realm/password-resources';

/** One route of the account API: authenticated; a POST has a JSON body checked against `bodySchema`. */
export type AccountRoute = {
  /** Below `ACCOUNT_BASE`. */
  readonly path: string;
  readonly handler: (accounts: AccountService) => RequestHandler;
} & (
  | {
      readonly method: 'post';
      /** The request body's schema in `openapi.yaml` (`components/schemas`). */
      readonly bodySchema: string;
      /** Needs a recent sign-in when the realm sets `maxAuthAge` (RFC 9470 step-up). */
      readonly stepUp?: true;
    }
  | { readonly method: 'get' }
);

interface ValidatePasswordBody {
  password: string;
}

interface ResetPasswordBody {
  currentPassword: string;
  newPassword: string;
}

/** The account API; `openapi.yaml` documents each of these and a test holds them equal. */
export const ACCOUNT_ROUTES: readonly AccountRoute[] = [
  {
    method: 'get',
    path: '/password-policy',
    handler: () => (_req, res) => {
      const { realm } = authenticated(res);
      answer(res, 200, { policy: realm.policy.source, rules: realm.policy.describe() });
    },
  },
  {
    method: 'post',
    path: '/validate-password',
    bodySchema: 'ValidatePasswordRequest',
    handler: (accounts) => async (req, res) => {
      const { user, audit } = authenticated(res);
      const { password } = req.body as ValidatePasswordBody;
      const valid = await accounts.within(budgetOf(res)).validatePassword(user, password, audit, 'VALIDATE_PASSWORD', { signal: clientSignal(res) });
      // Only for the right password, and only when there are some: the SPA's cue to send the user to change it.
      const requiredActions = valid ? accounts.requiredActionsOf(user) : [];
      const body = requiredActions.length > 0 ? { valid, requiredActions } : { valid };
      answer(res, 200, body);
    },
  },
  {
    method: 'post',
    path: '/reset-password',
    bodySchema: 'ResetPasswordRequest',
    stepUp: true,
    handler: (accounts) => async (req, res) => {
      const { user, audit } = authenticated(res);
      const { currentPassword, newPassword } = req.body as ResetPasswordBody;
      await accounts.within(budgetOf(res)).changePassword(user, currentPassword, newPassword, audit, { signal: clientSignal(res) });
      answer(res, 204);
    },
  },
];
