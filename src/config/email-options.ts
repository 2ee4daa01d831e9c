/**
 * The realm options of the email and recovery flows: SMTP with Keycloak's
 * field names, clients' redirect allow-lists, lifespans and rate limits. Each
 * is checked up front; an error names the option, the value and the fix.
 */
import { existsSync, statSync } from 'node:fs';
import { InvalidRequestError } from '../errors';
import { unknownKeys } from '../domain/did-you-mean';
import { checkInteger } from './checks';
import { boolean, fail as failOption } from './option-checks';

/** The languages the shipped templates speak. */
export const LOCALES: readonly string[] = ['en', 'de'];
/** Mail to users without a `locale`, unless the realm says otherwise. */
export const DEFAULT_LOCALE = 'en';

/** Keycloak's SMTP settings (Realm settings, Email), plus `passwordEnv`. */
export interface SmtpOptions {
  readonly host: string;
  /** Default 25, or 465 with `ssl`. */
  readonly port?: number | string;
  readonly from: string;
  readonly fromDisplayName?: string;
  readonly replyTo?: string;
  readonly replyToDisplayName?: string;
  readonly envelopeFrom?: string;
  /** Implicit TLS (SMTPS). Keycloak saves booleans as strings; both are read. */
  readonly ssl?: boolean | string;
  /** Require STARTTLS. */
  readonly starttls?: boolean | string;
  readonly auth?: boolean | string;
  readonly user?: string;
  /** Better: `passwordEnv`, so the file holds no secret. */
  readonly password?: string;
  /** The environment variable that holds the password. */
  readonly passwordEnv?: string;
}

/** SMTP settings checked and completed. */
export interface ResolvedSmtp {
  readonly host: string;
  readonly port: number;
  readonly from: string;
  readonly fromDisplayName: string | undefined;
  readonly replyTo: string | undefined;
  readonly replyToDisplayName: string | undefined;
  readonly envelopeFrom: string | undefined;
  readonly ssl: boolean;
  readonly starttls: boolean;
  /** Present when `auth` is on. */
  readonly auth: { readonly user: string; readonly password: string } | undefined;
}

/** How the recovery flows behave; every field has a default. */
export interface RecoveryOptions {
  /** Seconds a link or code asked for by the user lives. Default 900. */
  readonly selfServiceLifespanSeconds?: number;
  /** Seconds an admin's execute-actions-email link lives when `lifespan` is not given. Default 43200 (Keycloak's 12 h). */
  readonly adminLifespanSeconds?: number;
  /** Wrong codes before a code is burnt. Default 5. */
  readonly codeAttempts?: number;
  /** forgot-password requests per address (username or email) in `windowSeconds`. Default 3 in 900 s. */
  readonly perAddress?: { readonly limit?: number; readonly windowSeconds?: number };
  /** forgot-password requests per client address in `windowSeconds`. Default 20 in 900 s. */
  readonly perIp?: { readonly limit?: number; readonly windowSeconds?: number };
}

export interface ResolvedRecovery {
  readonly selfServiceLifespanSeconds: number;
  readonly adminLifespanSeconds: number;
  readonly codeAttempts: number;
  readonly perAddress: { readonly limit: number; readonly windowSeconds: number };
  readonly perIp: { readonly limit: number; readonly windowSeconds: number };
}

/** Defaults, each with its reason. */
export const RECOVERY_DEFAULTS: ResolvedRecovery = Object.freeze({
  /** Long enough for a slow mail, short enough that a forwarded or leaked mail soon stops working. */
  selfServiceLifespanSeconds: 900,
  /** Keycloak's default for execute-actions-email. */
  adminLifespanSeconds: 43_200,
  /** An 8-digit code with 5 tries: a 1 in 20 million chance per code. */
  codeAttempts: 5,
  /** A person asks a few times; more is someone flooding a mailbox. */
  perAddress: Object.freeze({ limit: 3, windowSeconds: 900 }),
  /** An office behind one address still fits; a script trying addresses does not. */
  perIp: Object.freeze({ limit: 20, windowSeconds: 900 }),
});

/** Redirect targets a client may name, Keycloak-style: exact, or ending in `*` for a prefix. */
export interface ClientOptions {
  readonly redirectUris: readonly string[];
}

/** Thrown for a wrong option; the caller adds it to its own error type. */
export type Fail = (name: string, problem: string) => never;

function flag(name: string, value: boolean | string | undefined, fallback: boolean, fail: Fail): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fail(name, `must be true or false, got ${JSON.stringify(value)}`);
}

function text(name: string, value: unknown, fail: Fail): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') return fail(name, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function count(name: string, value: number | undefined, fallback: number, min: number, max: number, fail: Fail): number {
  const resolved = value ?? fallback;
  const problem = checkInteger(resolved, min, max);
  if (problem) fail(name, problem);
  return resolved;
}

function unknown(name: string, object: object, known: readonly string[], fail: Fail): void {
  const extra = unknownKeys(object, known);
  if (extra.length > 0) fail(name, `unknown ${extra.length === 1 ? 'option' : 'options'} ${extra.join(', ')}`);
}

const SMTP_FIELDS = ['host', 'port', 'from', 'fromDisplayName', 'replyTo', 'replyToDisplayName', 'envelopeFrom', 'ssl', 'starttls', 'auth', 'user', 'password', 'passwordEnv'];

/** Check SMTP settings; a password named by `passwordEnv` is read from `env`. */
export function resolveSmtp(name: string, smtp: SmtpOptions | undefined, env: NodeJS.ProcessEnv, fail: Fail): ResolvedSmtp | undefined {
  if (smtp === undefined) return undefined;
  unknown(name, smtp, SMTP_FIELDS, fail);
  const host = text(`${name}.host`, smtp.host, fail) ?? fail(`${name}.host`, 'is required, e.g. "smtp.example.com"');
  const from = text(`${name}.from`, smtp.from, fail) ?? fail(`${name}.from`, 'is required, e.g. "no-reply@example.com"');
  const ssl = flag(`${name}.ssl`, smtp.ssl, false, fail);
  const port = smtp.port === undefined ? (ssl ? 465 : 25) : Number(smtp.port);
  const portProblem = checkInteger(port, 1, 65_535);
  if (portProblem) fail(`${name}.port`, portProblem);
  let auth: ResolvedSmtp['auth'];
  if (flag(`${name}.auth`, smtp.auth, false, fail)) {
    const user = text(`${name}.user`, smtp.user, fail) ?? fail(`${name}.user`, 'is required when auth is true');
    if (smtp.password !== undefined && smtp.passwordEnv !== undefined) fail(name, 'give "password" or "passwordEnv", not both');
    let password = text(`${name}.password`, smtp.password, fail);
    if (smtp.passwordEnv !== undefined) {
      const variable = text(`${name}.passwordEnv`, smtp.passwordEnv, fail) ?? '';
      password = env[variable];
      if (password === undefined || password === '') fail(`${name}.passwordEnv`, `the environment variable ${variable} is not set`);
    }
    if (password === undefined) fail(`${name}.password`, 'is required when auth is true (or name the variable that holds it in passwordEnv)');
    auth = { user, password };
  }
  return Object.freeze({
    host,
    port,
    from,
    fromDisplayName: text(`${name}.fromDisplayName`, smtp.fromDisplayName, fail),
    replyTo: text(`${name}.replyTo`, smtp.replyTo, fail),
    replyToDisplayName: text(`${name}.replyToDisplayName`, smtp.replyToDisplayName, fail),
    envelopeFrom: text(`${name}.envelopeFrom`, smtp.envelopeFrom, fail),
    ssl,
    starttls: flag(`${name}.starttls`, smtp.starttls, false, fail),
    auth,
  });
}

function window(name: string, given: RecoveryOptions['perIp'], fallback: ResolvedRecovery['perIp'], fail: Fail): ResolvedRecovery['perIp'] {
  if (given !== undefined) unknown(name, given, ['limit', 'windowSeconds'], fail);
  return Object.freeze({
    limit: count(`${name}.limit`, given?.limit, fallback.limit, 1, 100_000, fail),
    windowSeconds: count(`${name}.windowSeconds`, given?.windowSeconds, fallback.windowSeconds, 1, 86_400, fail),
  });
}

export function resolveRecovery(name: string, given: RecoveryOptions | undefined, fail: Fail): ResolvedRecovery {
  if (given === undefined) return RECOVERY_DEFAULTS;
  unknown(name, given, ['selfServiceLifespanSeconds', 'adminLifespanSeconds', 'codeAttempts', 'perAddress', 'perIp'], fail);
  return Object.freeze({
    selfServiceLifespanSeconds: count(`${name}.selfServiceLifespanSeconds`, given.selfServiceLifespanSeconds, RECOVERY_DEFAULTS.selfServiceLifespanSeconds, 60, 86_400 * 7, fail),
    adminLifespanSeconds: count(`${name}.adminLifespanSeconds`, given.adminLifespanSeconds, RECOVERY_DEFAULTS.adminLifespanSeconds, 60, 86_400 * 30, fail),
    codeAttempts: count(`${name}.codeAttempts`, given.codeAttempts, RECOVERY_DEFAULTS.codeAttempts, 1, 10, fail),
    perAddress: window(`${name}.perAddress`, given.perAddress, RECOVERY_DEFAULTS.perAddress, fail),
    perIp: window(`${name}.perIp`, given.perIp, RECOVERY_DEFAULTS.perIp, fail),
  });
}

/** RFC 3986 section 2.3: the characters a percent-escape never needs to hide. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

function decodeUnreserved(uri: string): string {
  return uri.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => {
    const character = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(character) ? character : `%${hex.toUpperCase()}`;
  });
}

/**
 * A redirect URI as a browser will follow it (RFC 3986 section 6): unreserved
 * percent-escapes decoded (so `%2e%2e` is `..`), dot segments resolved, scheme
 * and host lower-cased, a default port dropped. Refused, as Keycloak refuses
 * them: user-info and fragments; and anything a browser reads differently from
 * the string: a backslash (WHATWG URL takes it as `/`), spaces and control
 * characters (dropped by browsers).
 *
 * @throws InvalidRequestError naming what is wrong
 * @example
 * normalizeRedirectUri('HTTPS://App.Example:443/cb/x/../%7Ey'); // 'https://app.example/cb/~y'
 */
export function normalizeRedirectUri(uri: string): string {
  const refuse = (problem: string): never => {
    throw new InvalidRequestError(`The redirect URI "${uri.slice(0, 200)}" ${problem}.`);
  };
  if (uri.includes('\\')) refuse('contains a backslash, which browsers read as "/"');
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  if (/[\x00-\x20\x7f]/.test(uri)) refuse('contains spaces or control characters');
  if (uri.includes('#')) refuse('has a fragment (#), which a redirect URI may not have (RFC 6749 section 3.1.2)');
  let url: URL;
  try {
    url = new URL(decodeUnreserved(uri));
  } catch {
    return refuse('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') refuse('is not an http(s) URL');
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?]*@/i.test(uri)) refuse('carries user-info (user@host), which is never allowed');
  return url.href;
}

/** Each client's redirect URIs: absolute http(s) URLs, optionally ending in `*`; kept normalised, the `*` after. */
export function resolveClients(name: string, clients: Readonly<Record<string, ClientOptions>> | undefined, fail: Fail): ReadonlyMap<string, readonly string[]> {
  const resolved = new Map<string, readonly string[]>();
  for (const [clientId, client] of Object.entries(clients ?? {})) {
    unknown(`${name}.${clientId}`, client, ['redirectUris'], fail);
    const uris = client.redirectUris as unknown;
    if (!Array.isArray(uris) || !uris.every((uri): uri is string => typeof uri === 'string')) {
      return fail(`${name}.${clientId}.redirectUris`, `must be a list of URLs, got ${JSON.stringify(uris)}`);
    }
    const normalized = uris.map((uri) => {
      const prefix = uri.endsWith('*');
      try {
        return `${normalizeRedirectUri(prefix ? uri.slice(0, -1) : uri)}${prefix ? '*' : ''}`;
      } catch (error) {
        if (!(error instanceof InvalidRequestError)) throw error;
        return fail(`${name}.${clientId}.redirectUris`, `"${uri}" is not an absolute http(s) URL without user-info or fragment (a trailing * allows any continuation)`);
      }
    });
    resolved.set(clientId, Object.freeze(normalized));
  }
  return resolved;
}

/**
 * The URL to redirect to, when `uri` is on the list: `uri` normalised
 * (`normalizeRedirectUri`), equal to a normalised entry or starting with one
 * that ends in `*`; `undefined` when it is not. Every entry's normalised form
 * ends its authority with `/`, so a prefix never matches another host or port.
 *
 * @throws InvalidRequestError when `uri` itself is refused (user-info, fragment, backslash, ...)
 */
export function redirectAllowed(uri: string, allowed: readonly string[]): string | undefined {
  const url = normalizeRedirectUri(uri);
  const match = allowed.some((entry) => (entry.endsWith('*') ? url.startsWith(entry.slice(0, -1)) : url === entry));
  return match ? url : undefined;
}

/** A folder of template overrides: it must exist at start-up. */
export function resolveTemplateFolder(name: string, folder: string | undefined, fail: Fail): string | undefined {
  if (folder === undefined) return undefined;
  if (!existsSync(folder) || !statSync(folder).isDirectory()) fail(name, `"${folder}" is not a folder`);
  return folder;
}

/** A realm's mail and recovery settings. */
export interface RealmEmailOptions {
  /** Where mail goes out, Keycloak's field names. Default: none (the email flows answer 400). */
  readonly smtp?: SmtpOptions;
  /** Clients and the redirect URIs their links may return to (execute-actions-email, tickets, forgot-password). */
  readonly clients?: Readonly<Record<string, ClientOptions>>;
  /** Lifespans and rate limits of reset links and codes. */
  readonly recovery?: RecoveryOptions;
  /** A folder whose `email/<locale>/...` and `pages/...` files replace the shipped templates. */
  readonly templates?: string;
  /** The language of mails to users without a `locale`: `en` or `de`. Default: `en`. */
  readonly defaultLocale?: string;
  /** Mail the user when their password changes (by them, an admin or a reset). Default: true. */
  readonly notifyPasswordChange?: boolean;
}

/** A realm's mail and recovery settings, checked and completed. */
export interface ResolvedRealmEmail {
  readonly smtp: ResolvedSmtp | undefined;
  /** Redirect URIs by client id. */
  readonly clients: ReadonlyMap<string, readonly string[]>;
  readonly recovery: ResolvedRecovery;
  readonly templates: string | undefined;
  readonly defaultLocale: string;
  readonly notifyPasswordChange: boolean;
}

function locale(name: string, value: string | undefined): string {
  if (value === undefined) return DEFAULT_LOCALE;
  if (!LOCALES.includes(value)) failOption(name, `must be one of ${LOCALES.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

/** Check a realm's mail settings (`at` is its option path, `options.realms.<name>`); SMTP passwords may come from `env`. */
export function resolveRealmEmail(at: string, realm: RealmEmailOptions, env: NodeJS.ProcessEnv): ResolvedRealmEmail {
  return {
    smtp: resolveSmtp(`${at}.smtp`, realm.smtp, env, failOption),
    clients: resolveClients(`${at}.clients`, realm.clients, failOption),
    recovery: resolveRecovery(`${at}.recovery`, realm.recovery, failOption),
    templates: resolveTemplateFolder(`${at}.templates`, realm.templates, failOption),
    defaultLocale: locale(`${at}.defaultLocale`, realm.defaultLocale),
    notifyPasswordChange: boolean(`${at}.notifyPasswordChange`, realm.notifyPasswordChange, true),
  };
}
