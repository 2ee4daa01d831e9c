/**
 * A Keycloak realm's settings, read for what this service has an equivalent
 * of (password policy, brute force detection, SMTP, default locale) and made
 * into the `CONFIG_FILE` entry to use; everything else the realm holds that
 * the service does not carry over is named, so nothing is lost silently.
 */
import { LOCALES } from '../config/email-options';
import { parsePasswordPolicy } from '../domain/policy';

/** The realm's entry of `CONFIG_FILE`, in its names. */
export interface RealmConfigEntry {
  passwordPolicy?: string;
  bruteForce?: Record<string, number | boolean>;
  smtp?: Record<string, string | number | boolean>;
  defaultLocale?: string;
}

export interface RealmSettingsReading {
  readonly config: RealmConfigEntry;
  /** Settings with no equivalent here, one sentence each. */
  readonly notCarriedOver: readonly string[];
}

/** Keycloak's brute force fields, under the names our `bruteForce` settings use (`maxDeltaTimeSeconds` is Keycloak's "failure reset time"). */
const BRUTE_FORCE_FIELDS = [
  ['failureFactor', 'failureFactor'],
  ['waitIncrementSeconds', 'waitIncrementSeconds'],
  ['maxFailureWaitSeconds', 'maxFailureWaitSeconds'],
  ['maxDeltaTimeSeconds', 'failureResetTimeSeconds'],
  ['quickLoginCheckMilliSeconds', 'quickLoginCheckMilliSeconds'],
  ['minimumQuickLoginWaitSeconds', 'minimumQuickLoginWaitSeconds'],
  ['permanentLockout', 'permanentLockout'],
  ['maxTemporaryLockouts', 'maxTemporaryLockouts'],
] as const;

/** Keycloak's `smtpServer` fields that our `smtp` settings share (Keycloak saves booleans and the port as strings; both are read). */
const SMTP_FIELDS = ['host', 'port', 'from', 'fromDisplayName', 'replyTo', 'replyToDisplayName', 'envelopeFrom', 'ssl', 'starttls', 'auth', 'user'] as const;

function policyOf(theirs: string, notes: string[]): string | undefined {
  const kept: string[] = [];
  for (const term of theirs.split(/\s+and\s+/).map((t) => t.trim()).filter((t) => t !== '')) {
    try {
      parsePasswordPolicy(term);
      kept.push(term);
    } catch (error) {
      notes.push(`password policy term ${term}: ${(error as Error).message}`);
    }
  }
  return kept.length === 0 ? undefined : parsePasswordPolicy(kept.join(' and ')).source;
}

function count(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length;
  return 0;
}

function named(list: unknown, field: string): string {
  const names = Array.isArray(list) ? list.map((item) => (typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[field] : undefined)).filter((name) => typeof name === 'string') : [];
  const shown = names.slice(0, 5).join(', ');
  return names.length === 0 ? '' : ` (${shown}${names.length > 5 ? `, and ${names.length - 5} more` : ''})`;
}

/**
 * Read `settings`, the realm representation's top-level fields (its `users`
 * aside), for `realm`.
 */
export function readRealmSettings(realm: string, settings: Readonly<Record<string, unknown>>): RealmSettingsReading {
  const config: RealmConfigEntry = {};
  const notes: string[] = [];

  if (typeof settings.passwordPolicy === 'string' && settings.passwordPolicy.trim() !== '') {
    const policy = policyOf(settings.passwordPolicy, notes);
    if (policy !== undefined) config.passwordPolicy = policy;
  }

  if (settings.bruteForceProtected === true) {
    const bruteForce: Record<string, number | boolean> = {};
    for (const [theirs, ours] of BRUTE_FORCE_FIELDS) {
      const value = settings[theirs];
      if (typeof value === 'number' || typeof value === 'boolean') bruteForce[ours] = value;
    }
    config.bruteForce = bruteForce;
    if (typeof settings.bruteForceStrategy === 'string' && settings.bruteForceStrategy !== 'MULTIPLE') {
      notes.push(`brute force strategy ${settings.bruteForceStrategy}: this service adds waitIncrementSeconds at every failureFactor failures (Keycloak's MULTIPLE)`);
    }
  } else if (settings.bruteForceProtected === false) {
    notes.push("brute force detection is off in Keycloak; this service's bruteForce settings (on by default) apply to the imported users");
  }

  const smtpServer = settings.smtpServer;
  if (typeof smtpServer === 'object' && smtpServer !== null && typeof (smtpServer as Record<string, unknown>).host === 'string') {
    const theirs = smtpServer as Record<string, unknown>;
    const smtp: Record<string, string | number | boolean> = {};
    for (const field of SMTP_FIELDS) {
      const value = theirs[field];
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') smtp[field] = value;
    }
    // Keycloak's export masks the password ("**********"): it comes from the environment here.
    if (theirs.auth === true || theirs.auth === 'true') smtp.passwordEnv = `SMTP_PASSWORD_${realm.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    config.smtp = smtp;
  }

  if (typeof settings.defaultLocale === 'string' && settings.defaultLocale !== '') {
    if (LOCALES.includes(settings.defaultLocale)) config.defaultLocale = settings.defaultLocale;
    else notes.push(`default locale "${settings.defaultLocale}": mails here are in ${LOCALES.join(' or ')}`);
  }

  const identityProviders = count(settings.identityProviders);
  if (identityProviders > 0) notes.push(`${identityProviders} identity provider(s)${named(settings.identityProviders, 'alias')}: users who log in through them have no password here`);
  const components = settings.components;
  const storage = typeof components === 'object' && components !== null ? (components as Record<string, unknown>)['org.keycloak.storage.UserStorageProvider'] : undefined;
  const federation = count(storage) + count(settings.userFederationProviders);
  if (federation > 0) notes.push(`${federation} user federation provider(s)${named(storage ?? settings.userFederationProviders, 'name')}: their users' passwords stay in that storage`);
  const groups = count(settings.groups);
  if (groups > 0) notes.push(`${groups} group(s)${named(settings.groups, 'name')}: this service has no groups`);
  const roles = typeof settings.roles === 'object' && settings.roles !== null ? count((settings.roles as Record<string, unknown>).realm) : 0;
  if (roles > 0) notes.push(`${roles} realm role(s)${named((settings.roles as Record<string, unknown>).realm, 'name')}: roles come in the tokens Keycloak issues, not from here`);
  const clients = count(settings.clients);
  if (clients > 0) notes.push(`${clients} client(s): tokens keep coming from Keycloak`);
  const federatedUsers = settings.federatedUsers;
  if (typeof federatedUsers === 'number' || typeof federatedUsers === 'string') {
    notes.push(`federated users (${federatedUsers}): users of a federation provider, whose passwords are not in the export`);
  }

  return { config, notCarriedOver: notes.map((note) => `realm "${realm}": ${note}`) };
}
