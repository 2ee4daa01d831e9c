import type { ResolvedSmtp } from '../../config/email-options';
import type { ResolvedRealm } from '../../config/realm-options';
import { answer, realmOf } from '../context';
import { holdsAdminRole } from '../middleware';
import type { AdminRoute } from './route';

/** What Keycloak answers for a secret it keeps (`ComponentRepresentation.SECRET_VALUE`). */
export const KEYCLOAK_SECRET_MASK = '**********';

/** Keycloak's `smtpServer`: every value a string, the password masked; `{}` when none is set. */
function smtpRepresentation(smtp: ResolvedSmtp | undefined): Record<string, string> {
  if (smtp === undefined) return {};
  const optional = { fromDisplayName: smtp.fromDisplayName, replyTo: smtp.replyTo, replyToDisplayName: smtp.replyToDisplayName, envelopeFrom: smtp.envelopeFrom };
  return {
    host: smtp.host,
    port: String(smtp.port),
    from: smtp.from,
    ...Object.fromEntries(Object.entries(optional).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    ssl: String(smtp.ssl),
    starttls: String(smtp.starttls),
    auth: String(smtp.auth !== undefined),
    ...(smtp.auth === undefined ? {} : { user: smtp.auth.user, password: KEYCLOAK_SECRET_MASK }),
  };
}

/**
 * Keycloak's RealmRepresentation of what this service holds of a realm, in
 * Keycloak's field names: the password policy, brute force detection (always
 * on here), action token lifespans, the default locale and SMTP. The id is the
 * realm's name (the service has no other).
 */
export function realmRepresentation(realm: ResolvedRealm): Record<string, unknown> {
  const bruteForce = realm.bruteForce;
  return {
    id: realm.name,
    realm: realm.name,
    enabled: true,
    passwordPolicy: realm.policy.source,
    bruteForceProtected: true,
    permanentLockout: bruteForce.permanentLockout,
    maxTemporaryLockouts: bruteForce.maxTemporaryLockouts,
    maxFailureWaitSeconds: bruteForce.maxFailureWaitSeconds,
    minimumQuickLoginWaitSeconds: bruteForce.minimumQuickLoginWaitSeconds,
    waitIncrementSeconds: bruteForce.waitIncrementSeconds,
    quickLoginCheckMilliSeconds: bruteForce.quickLoginCheckMilliSeconds,
    maxDeltaTimeSeconds: bruteForce.failureResetTimeSeconds,
    failureFactor: bruteForce.failureFactor,
    actionTokenGeneratedByAdminLifespan: realm.recovery.adminLifespanSeconds,
    actionTokenGeneratedByUserLifespan: realm.recovery.selfServiceLifespanSeconds,
    defaultLocale: realm.defaultLocale,
    smtpServer: smtpRepresentation(realm.smtp),
  };
}

/** The realm itself, read-only: what Keycloak's tools fetch before they act (`kcadm.sh get realms/demo`, `realms.findOne`). */
export const REALM_ROUTES: readonly AdminRoute[] = [
  {
    method: 'get',
    path: '',
    role: 'viewRealm',
    anyAdminRole: true,
    handler: () => (_req, res) => {
      const realm = realmOf(res);
      // As Keycloak's RealmAdminResource.getRealm: the whole realm with view-realm, its name alone with any other admin role.
      answer(res, 200, holdsAdminRole(res, 'viewRealm') ? realmRepresentation(realm) : { realm: realm.name });
    },
  },
];
