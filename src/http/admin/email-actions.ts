import type { SmtpOptions } from '../../config/email-options';
import { InvalidRequestError } from '../../errors';
import { answer, contextOf } from '../context';
import { Query } from './query';
import type { AdminRoute } from './route';
import { adminRequest } from './route';

interface TicketBody {
  ttl_sec?: number;
  result_url?: string;
  mark_email_as_verified?: boolean;
  include_email_in_redirect?: boolean;
}

/** The actions execute-actions-email can send; Keycloak's others concern sign-in, which is the IdP's. */
const EMAIL_ACTIONS = ['UPDATE_PASSWORD'];

/** Mail an admin sends: execute-actions-email, password-change tickets, the SMTP test. */
export const EMAIL_ACTION_ROUTES: readonly AdminRoute[] = [
  {
    method: 'put',
    path: '/users/:id/execute-actions-email',
    role: 'manage',
    bodySchema: 'ExecuteActionsRequest',
    handler: ({ recovery }) => async (req, res) => {
      const query = new Query(req, ['lifespan', 'client_id', 'redirect_uri']);
      const { realm, id } = adminRequest(req, res);
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
      const { realm, id } = adminRequest(req, res);
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
      const { realm } = adminRequest(req, res);
      const { to, ...settings } = req.body as SmtpOptions & { to?: string };
      const email = contextOf(res).token?.claims.email;
      const recipient = to ?? (typeof email === 'string' ? email : undefined);
      if (recipient === undefined) throw new InvalidRequestError('Say where the test mail goes: "to", or a token with an email claim (Keycloak sends it to the admin).');
      await testSmtp(realm, Object.keys(settings).length > 0 ? settings : undefined, recipient);
      answer(res, 204);
    },
  },
];
