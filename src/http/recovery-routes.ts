/**
 * Recovery without a token: forgot-password and reset-password-with-code
 * (JSON), and the hosted reset page behind the link in the mail (HTML).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { InvalidPasswordError, InvalidRequestError, PasswordResourcesError } from '../errors';
import type { AuditContext } from '../domain/events';
import { RecoveryLinkError } from '../domain/recovery';
import type { Identifier, LinkProblem, RecoveryService } from '../domain/recovery';
import { renderTemplate, SHIPPED_TEMPLATES } from '../mail/mailer';
import type { ResolvedRealm } from '../config/realm-options';
import { answer, realmOf } from './context';
import { toPasswordResourcesError } from './error-handler';

interface ForgotPasswordBody {
  username?: string;
  email?: string;
  method?: 'link' | 'code';
  client_id?: string;
  redirect_uri?: string;
}

interface ResetWithCodeBody {
  username?: string;
  email?: string;
  code: string;
  newPassword: string;
}

function identifierOf(body: { username?: string; email?: string }): Identifier {
  if (body.username !== undefined && body.email === undefined) return { username: body.username };
  if (body.email !== undefined && body.username === undefined) return { email: body.email };
  throw new InvalidRequestError('Give exactly one of "username" and "email".');
}

/** What the forgot-password answer always says, whether or not the account exists. */
export const FORGOT_PASSWORD_ANSWER = Object.freeze({
  message: 'If an account matches, a message is on its way to its email address.',
});

/** The JSON routes: the body schema of `openapi.yaml` each takes, and its handler. */
export const RECOVERY_JSON_ROUTES = [
  {
    path: '/forgot-password',
    bodySchema: 'ForgotPasswordRequest',
    handler:
      (recovery: RecoveryService, audit: (req: Request) => AuditContext): RequestHandler =>
      async (req, res) => {
        const body = req.body as ForgotPasswordBody;
        const realm = realmOf(res);
        const { afterAnswer } = await recovery.forgotPassword(
          realm.name,
          { identifier: identifierOf(body), method: body.method ?? 'link', clientId: body.client_id, redirectUri: body.redirect_uri },
          audit(req),
        );
        // The user is looked up only once the answer is out, so nothing about it can depend on the account.
        // 'close' follows the answer, and comes too when the client hung up first: the request still counts.
        res.once('close', () => void afterAnswer());
        answer(res, 202, FORGOT_PASSWORD_ANSWER);
      },
  },
  {
    path: '/reset-password-with-code',
    bodySchema: 'ResetPasswordWithCodeRequest',
    handler:
      (recovery: RecoveryService, audit: (req: Request) => AuditContext): RequestHandler =>
      async (req, res) => {
        const body = req.body as ResetWithCodeBody;
        await recovery.redeemCode(realmOf(res).name, identifierOf(body), body.code, body.newPassword, audit(req));
        answer(res, 204);
      },
  },
] as const;

// ---------------------------------------------------------------------------
// The hosted page

const COOKIE = 'password_resources_reset';

/** Where the hosted page is, below the account base path; GET shows it, POST submits it. */
export const RESET_PAGE_PATH = '/reset';

/** The page's only style, allowed by its hash: no inline script or style is allowed otherwise. */
const STYLE =
  'body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;padding:2rem 1rem;background:#f6f6f6;color:#111}' +
  'main{max-width:32rem;margin:auto;background:#fff;padding:1.5rem 2rem;border-radius:.5rem}' +
  'input[type=password]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}' +
  'button{padding:.6rem 1.2rem;font-size:1rem}[role=alert]{border-left:4px solid #b00020;padding-left:1rem;color:#b00020}' +
  ':focus{outline:3px solid #1a73e8;outline-offset:2px}';

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Strict by construction: no script at all, the one style by hash, the form posts only here, no framing. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

const PROBLEM_PAGES: Readonly<Record<LinkProblem | 'missing' | 'csrf' | 'unreadable', { status: number; title: string; message: string }>> = {
  invalid: { status: 400, title: 'This link does not work', message: 'The link is not valid, or a newer one was sent since. Use the link in the most recent mail, or ask for a new one.' },
  expired: { status: 410, title: 'This link has expired', message: 'Reset links work for a limited time. Ask for a new one.' },
  used: { status: 410, title: 'This link was already used', message: 'Each reset link works once. If you did not change your password yourself, ask for a new link at once.' },
  superseded: { status: 410, title: 'This link no longer works', message: 'The password was changed after this link was sent. Ask for a new link if you still need one.' },
  missing: { status: 400, title: 'Open the link from your mail', message: 'This page needs the link from the password reset mail. Open that link again.' },
  csrf: { status: 403, title: 'The form could not be accepted', message: 'The form was not sent from this page, or the page was open too long. Open the link from your mail again.' },
  unreadable: { status: 400, title: 'The form could not be read', message: 'The form arrived in a shape this page does not take. Open the link from your mail again and send the form from there.' },
};

interface PageValues {
  title: string;
  message?: string;
  problems?: readonly string[];
  form?: { action: string; csrf: string; username: string; rules: readonly string[] };
}

function sendPage(res: Response, realm: ResolvedRealm, status: number, values: PageValues): void {
  const folders = [...(realm.templates === undefined ? [] : [join(realm.templates, 'pages')]), join(SHIPPED_TEMPLATES, 'pages')];
  const html = renderTemplate(folders, 'reset.html.hbs', { realm: realm.name, style: STYLE, ...values });
  res.status(status).set(SECURITY_HEADERS).type('html').send(html);
}

function sendProblem(res: Response, realm: ResolvedRealm, problem: keyof typeof PROBLEM_PAGES, status = PROBLEM_PAGES[problem].status): void {
  const page = PROBLEM_PAGES[problem];
  sendPage(res, realm, status, { title: page.title, message: page.message });
}

/** A redirect without a body, so nothing but the header says where to go. */
function seeOther(res: Response, location: string): void {
  res.status(303).location(location).end();
}

/** The cookie holding the link's key, scoped to the page's path. */
function keyCookie(req: Request, key: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${COOKIE}=${key}`, `Path=${req.baseUrl}${RESET_PAGE_PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])].join('; ');
}

function keyFromCookie(req: Request): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
}

/** A CSRF token only the holder of the link's key can make. */
function csrfOf(key: string): string {
  return createHmac('sha256', key).update('password-resources reset form').digest('base64url');
}

function csrfMatches(key: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const expected = Buffer.from(csrfOf(key));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Render the form for the link's user, with the realm's rules up front and any problems. */
function sendForm(req: Request, res: Response, realm: ResolvedRealm, key: string, username: string, status: number, problems?: readonly string[]): void {
  sendPage(res, realm, status, {
    title: 'Choose a new password',
    ...(problems ? { problems } : {}),
    form: { action: `${req.baseUrl}${RESET_PAGE_PATH}`, csrf: csrfOf(key), username, rules: realm.policy.describe().map((rule) => rule.message) },
  });
}

/** Runs `then` with the link's user when `key` names a live link; otherwise answers with the page that says why. */
type WithLink = (res: Response, key: string | undefined, then: (username: string, expiresAt: Date) => Promise<void> | void) => Promise<void>;

function linkChecker(recovery: RecoveryService): WithLink {
  return async (res, key, then) => {
    const realm = realmOf(res);
    if (key === undefined || key === '') {
      sendProblem(res, realm, 'missing');
      return;
    }
    try {
      const { user, token } = await recovery.inspectLink(realm.name, key);
      await then(user.username, token.expiresAt);
    } catch (error) {
      if (error instanceof RecoveryLinkError) sendProblem(res, realm, error.problem);
      else throw error;
    }
  };
}

/** A form the parser refuses (too many fields, too large, another charset, a broken encoding) is the client's: a page with the 4xx. */
function formParser(bodyLimitBytes: number): RequestHandler {
  const parseForm = express.urlencoded({ extended: false, limit: bodyLimitBytes, parameterLimit: 10 });
  return (req, res, next) => {
    parseForm(req, res, (error?: unknown) => {
      if (error === undefined) {
        next();
        return;
      }
      const mapped = toPasswordResourcesError(error);
      if (mapped.expose) sendProblem(res, realmOf(res), 'unreadable', mapped.status);
      else next(error);
    });
  };
}

/** `GET /reset?key=` moves the key into a cookie and redirects; `GET /reset` shows the form. */
function showForm(withLink: WithLink, secureCookies: boolean): RequestHandler {
  return async (req, res) => {
    const realm = realmOf(res);
    const fromQuery = typeof req.query.key === 'string' ? req.query.key : undefined;
    if (fromQuery !== undefined) {
      await withLink(res, fromQuery, (_username, expiresAt) => {
        // Out of the address bar, history and any Referer before the form is shown; the cookie lives as long as the link.
        const seconds = Math.max(1, Math.ceil((expiresAt.getTime() - Date.now()) / 1000));
        res.set(SECURITY_HEADERS).set('Set-Cookie', keyCookie(req, fromQuery, seconds, secureCookies));
        seeOther(res, `${req.baseUrl}${RESET_PAGE_PATH}`);
      });
      return;
    }
    const key = keyFromCookie(req);
    await withLink(res, key, (username) => {
      sendForm(req, res, realm, key ?? '', username, 200);
    });
  };
}

/** `POST /reset`: the new password, twice, with the form's CSRF token; sets it and ends the link. */
function submitForm(recovery: RecoveryService, withLink: WithLink, audit: (req: Request) => AuditContext, secureCookies: boolean): RequestHandler {
  return async (req, res) => {
    const realm = realmOf(res);
    const key = keyFromCookie(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    await withLink(res, key, async (username) => {
      const linkKey = key ?? '';
      if (!csrfMatches(linkKey, body.csrf)) {
        sendProblem(res, realm, 'csrf');
        return;
      }
      const password = typeof body.password === 'string' ? body.password : '';
      if (password === '' || password !== body.confirm) {
        sendForm(req, res, realm, linkKey, username, 400, [password === '' ? 'Enter a new password.' : 'The two passwords differ; type the same one twice.']);
        return;
      }
      try {
        const { redirect } = await recovery.completeLink(realm.name, linkKey, password, audit(req));
        res.set('Set-Cookie', keyCookie(req, '', 0, secureCookies));
        if (redirect !== undefined) {
          res.set(SECURITY_HEADERS);
          seeOther(res, redirect);
          return;
        }
        sendPage(res, realm, 200, { title: 'Your password was changed', message: 'You can now sign in with your new password. You may close this page.' });
      } catch (error) {
        if (error instanceof InvalidPasswordError) sendForm(req, res, realm, linkKey, username, 400, error.violations.map((violation) => violation.message));
        else if (error instanceof PasswordResourcesError && error.status === 409) sendProblem(res, realm, 'used');
        else throw error;
      }
    });
  };
}

/**
 * The hosted page: `GET /reset?key=` checks the link without using it, moves
 * the key into a cookie for the page's path and redirects to `GET /reset`,
 * which shows the form; `POST /reset` sets the password.
 */
export function resetPageRouter(recovery: RecoveryService, audit: (req: Request) => AuditContext, options: { secureCookies: boolean; bodyLimitBytes: number }): express.Router {
  const page = express.Router({ mergeParams: true });
  const withLink = linkChecker(recovery);
  page.get(RESET_PAGE_PATH, showForm(withLink, options.secureCookies));
  page.post(RESET_PAGE_PATH, formParser(options.bodyLimitBytes), submitForm(recovery, withLink, audit, options.secureCookies));
  return page;
}
