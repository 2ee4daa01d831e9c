/**
 * The admin console: the built front-end (`dist/console/`, from `console/`)
 * served per realm under `/admin/console/<realm>/`, with the page's run-time
 * settings in `config.json`. The page is static and holds nothing private: it
 * signs the administrator in at the realm's identity provider and calls the
 * admin API with their token, like any other client of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import type { ErrorRequestHandler, Request, RequestHandler, Response, Router } from 'express';
import { OptionsError } from '../config/option-checks';
import type { ResolvedRealm } from '../config/realm-options';
import { RealmNotFoundError } from '../errors';
import { contextOf } from './context';
import { apiSecurityHeaders, requestId, resolveRealm } from './middleware';

/** Where the console is mounted, below any prefix the host chooses. */
export const CONSOLE_BASE = '/admin/console';

/** The built console, at the package root two levels above this file in `src/` and in `dist/`. */
export const CONSOLE_DIR = join(__dirname, '..', '..', 'dist', 'console');

/** The console's routes below `CONSOLE_BASE` (all GET); `openapi.yaml` documents each and a test holds them equal. */
export const CONSOLE_PATHS = ['/', '/:realm', '/:realm/config.json', '/:realm/assets/:file'] as const;

/** A year: the longest `max-age` caches honour (RFC 9111); a hashed name never changes content. */
const IMMUTABLE_MAX_AGE = '365d';

/**
 * The console page's policy: its own script and style files only (no inline
 * script or style), calls to itself (the admin API) and to the identity
 * provider (discovery, token and sign-out endpoints), no frames, no plugins.
 */
export function consoleContentSecurityPolicy(issuer: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${new URL(issuer).origin}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers of the console's HTML: its CSP, no framing, no Referer (the sign-in's code is in the address for a moment). */
function htmlHeaders(res: Response, policy: string): void {
  res.set({
    'Content-Security-Policy': policy,
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-cache',
    'Content-Type': 'text/html; charset=utf-8',
  });
}

/**
 * The console's pages use relative addresses (`./assets/...`, `../../realms/...`):
 * they work only at an address ending in `/`. `true` when the request's has
 * none, after answering with a redirect to the same address with it (relative,
 * so it holds under any prefix).
 */
function redirectedToSlash(req: Request, res: Response): boolean {
  const [path = '', query] = req.originalUrl.split('?');
  if (path.endsWith('/')) return false;
  const last = path.slice(path.lastIndexOf('/') + 1);
  res.status(308).set({ Location: `${last}/${query === undefined ? '' : `?${query}`}`, 'Cache-Control': 'no-cache' }).end();
  return true;
}

/** The realm of the path, which must have a console (404 `realm_not_found` otherwise, as for an unknown realm). */
function consoleRealm(realms: ReadonlyMap<string, ResolvedRealm>): RequestHandler[] {
  return [
    resolveRealm(realms),
    (_req, res, next) => {
      const realm = contextOf(res).realm;
      if (realm?.console === undefined) throw new RealmNotFoundError(realm?.name ?? '');
      next();
    },
  ];
}

function consoleOf(res: Response): { realm: ResolvedRealm; console: NonNullable<ResolvedRealm['console']> } {
  const realm = contextOf(res).realm;
  if (realm?.console === undefined) throw new Error('handler placed before consoleRealm');
  return { realm, console: realm.console };
}

/** `GET /admin/console/`: a plain page linking to each realm's console. */
function listPage(names: readonly string[]): RequestHandler {
  // Realm names are letters, digits, ".", "_" and "-" (REALM_NAME): nothing to escape in HTML.
  const items = names.map((name) => `<li><a href="${encodeURIComponent(name)}/">${name}</a></li>`).join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Admin console</title></head><body><main><h1>Admin console</h1><p>Choose a realm:</p><ul>${items}</ul></main></body></html>`;
  return (req, res) => {
    if (redirectedToSlash(req, res)) return;
    htmlHeaders(res, "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.status(200).send(html);
  };
}

/** What the page reads at start: where to sign in, and where its rights on the realm are in the token. */
function consoleConfig(realm: ResolvedRealm, settings: NonNullable<ResolvedRealm['console']>): Record<string, unknown> {
  return {
    realm: realm.name,
    issuer: settings.issuer,
    clientId: settings.clientId,
    scope: settings.scope,
    ...(settings.adminRealm === undefined ? {} : { adminRealm: settings.adminRealm }),
    roleClient: settings.roleClient,
    adminRoles: realm.adminRoles,
  };
}

/** The built page, read once: a console configured without it is a start-up error. */
function readIndex(directory: string, realms: readonly string[]): string {
  try {
    return readFileSync(join(directory, 'index.html'), 'utf8');
  } catch (error) {
    throw new OptionsError(
      `options.realms.${realms[0] ?? ''}.console: the console is not built (${join(directory, 'index.html')}: ${(error as NodeJS.ErrnoException).code ?? String(error)}); run npm run build`,
    );
  }
}

/**
 * The console of each realm that has one (`realm.console`); `undefined` when
 * none has. `directory` holds the built files (default `CONSOLE_DIR`).
 *
 * @throws OptionsError when a realm has a console but `directory` has no build.
 */
export function consoleRouter(realms: ReadonlyMap<string, ResolvedRealm>, errors: ErrorRequestHandler, directory = CONSOLE_DIR): Router | undefined {
  const names = [...realms.values()].filter((realm) => realm.console !== undefined).map((realm) => realm.name);
  if (names.length === 0) return undefined;
  const index = readIndex(directory, names);
  const router = express.Router();
  router.use(requestId, apiSecurityHeaders);
  router.get('/', listPage(names));
  const chain = consoleRealm(realms);
  router.get('/:realm', ...chain, (req, res) => {
    if (redirectedToSlash(req, res)) return;
    htmlHeaders(res, consoleContentSecurityPolicy(consoleOf(res).console.issuer));
    res.status(200).send(index);
  });
  router.get('/:realm/config.json', ...chain, (_req, res) => {
    const { realm, console } = consoleOf(res);
    res.set('Cache-Control', 'no-cache').status(200).json(consoleConfig(realm, console));
  });
  // Hashed names: a new build has new names, so each file may be cached for good. An unknown name is the host's 404.
  const assets = join(directory, 'assets');
  router.get('/:realm/assets/:file', ...chain, (req, res, next) => {
    res.sendFile(String(req.params.file), { root: assets, immutable: true, maxAge: IMMUTABLE_MAX_AGE, dotfiles: 'deny', acceptRanges: false }, (error?: Error & { status?: number }) => {
      if (error === undefined || res.headersSent) return;
      if (error.status === 404 || error.status === 403) next();
      else next(error);
    });
  });
  router.use(errors);
  return router;
}
