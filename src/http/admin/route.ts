import type { Request, RequestHandler, Response } from 'express';
import type { AdminRoles } from '../../config/admin-options';
import type { SmtpOptions } from '../../config/email-options';
import type { AdminService } from '../../domain/admin-service';
import type { AdminActor, EventLog } from '../../domain/events';
import type { RecoveryService } from '../../domain/recovery';
import { contextOf } from '../context';

/** Where the admin API is mounted, below any prefix the host chooses (Keycloak's own path). */
export const ADMIN_BASE = '/admin/realms/:realm';

/** What admin handlers are given. */
export interface AdminHandlerDependencies {
  readonly admin: AdminService;
  readonly events: EventLog;
  readonly recovery: RecoveryService;
  /** Keycloak's "Test connection": send a test mail over `smtp` (the realm's when absent) to `to`. */
  readonly testSmtp: (realm: string, smtp: SmtpOptions | undefined, to: string) => Promise<void>;
}

/** One route of the admin API: authenticated, with the role it needs; a body checked against `bodySchema`. */
export interface AdminRoute {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** Below `ADMIN_BASE`. */
  readonly path: string;
  readonly role: keyof AdminRoles;
  /** Also let through a token with any other admin role of the realm; the handler answers it with less. */
  readonly anyAdminRole?: true;
  /** The request body's schema in `openapi.yaml` (`components/schemas`), for routes that take one. */
  readonly bodySchema?: string;
  readonly handler: (dependencies: AdminHandlerDependencies) => RequestHandler;
}

/** The realm, the admin making the request, and the path's user id. */
export function adminRequest(req: Request, res: Response): { realm: string; actor: AdminActor; id: string } {
  const { realm, token, audit } = contextOf(res);
  if (!realm || !token || !audit) throw new Error('handler placed before authentication');
  return { realm: realm.name, actor: { userId: token.subject, clientId: audit.clientId, ip: audit.ip }, id: String(req.params.id) };
}
