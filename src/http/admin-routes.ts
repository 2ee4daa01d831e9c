import { BRUTE_FORCE_ROUTES } from './admin/brute-force';
import { CREDENTIAL_ROUTES } from './admin/credentials';
import { EMAIL_ACTION_ROUTES } from './admin/email-actions';
import { EVENT_ROUTES } from './admin/events';
import { REALM_ROUTES } from './admin/realm';
import type { AdminRoute } from './admin/route';
import { USER_ROUTES } from './admin/users';

export { ADMIN_BASE } from './admin/route';
export type { AdminHandlerDependencies, AdminRoute } from './admin/route';

/**
 * The admin API, in Keycloak's shapes, one table per resource under `admin/`;
 * `openapi.yaml` documents each of these and a test holds them equal.
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = [...REALM_ROUTES, ...USER_ROUTES, ...CREDENTIAL_ROUTES, ...EMAIL_ACTION_ROUTES, ...BRUTE_FORCE_ROUTES, ...EVENT_ROUTES];
