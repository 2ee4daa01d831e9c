/**
 * Audit events, with Keycloak's event type names where Keycloak has one. An
 * event never holds a secret: no password, hash or token.
 */

export type EventType =
  | 'LOGIN'
  | 'LOGIN_ERROR'
  | 'VALIDATE_PASSWORD'
  | 'VALIDATE_PASSWORD_ERROR'
  | 'UPDATE_PASSWORD'
  | 'UPDATE_PASSWORD_ERROR'
  | 'SEND_RESET_PASSWORD'
  | 'SEND_RESET_PASSWORD_ERROR'
  | 'RESET_PASSWORD'
  | 'RESET_PASSWORD_ERROR'
  | 'USER_DISABLED_BY_TEMPORARY_LOCKOUT'
  | 'USER_DISABLED_BY_PERMANENT_LOCKOUT';

/** Who asked, as far as the HTTP layer knows. */
export interface AuditContext {
  /** The token's `azp`. */
  readonly clientId?: string | undefined;
  /** The client's address (through trusted proxies only). */
  readonly ip?: string | undefined;
}

export interface AuditEvent extends AuditContext {
  readonly type: EventType;
  readonly realm: string;
  readonly userId: string;
  readonly time: Date;
  /** The error code for `*_ERROR` events, e.g. `invalid_user_credentials`. */
  readonly error?: string | undefined;
}

/** Where events go. `record` never throws: an event that cannot be stored is logged instead. */
export interface EventSink {
  record(event: AuditEvent): Promise<void>;
}

/** Keycloak's admin event operation types. */
export type AdminOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'ACTION';

/** Who made an administrative change: the admin token's subject and client, and the caller's address. */
export interface AdminActor {
  readonly userId: string;
  readonly clientId?: string | undefined;
  readonly ip?: string | undefined;
}

/** An administrative change, as Keycloak's admin events record it; never a secret. */
export interface AdminEvent {
  readonly realm: string;
  readonly time: Date;
  readonly operationType: AdminOperation;
  /** Keycloak's resource type: `USER`, `CREDENTIAL`, `BRUTE_FORCE`... */
  readonly resourceType: string;
  /** Below the realm, e.g. `users/{id}/reset-password`. */
  readonly resourcePath: string;
  readonly actor: AdminActor;
  readonly error?: string | undefined;
}

/** Where admin events go. `recordAdmin` never throws. */
export interface AdminEventSink {
  recordAdmin(event: AdminEvent): Promise<void>;
}

/** Keycloak's query of `GET /admin/realms/{realm}/events`; newest first. */
export interface EventQuery {
  readonly types?: readonly string[] | undefined;
  readonly userId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly ip?: string | undefined;
  /** Inclusive bounds. */
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  readonly first: number;
  readonly max: number;
}

/** Keycloak's query of `GET /admin/realms/{realm}/admin-events`; newest first. */
export interface AdminEventQuery {
  readonly operationTypes?: readonly string[] | undefined;
  readonly resourceTypes?: readonly string[] | undefined;
  readonly resourcePath?: string | undefined;
  readonly authUserId?: string | undefined;
  readonly authClientId?: string | undefined;
  readonly authIp?: string | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  readonly first: number;
  readonly max: number;
}

/** Reading back what was recorded. */
export interface EventLog {
  events(realm: string, query: EventQuery): Promise<AuditEvent[]>;
  adminEvents(realm: string, query: AdminEventQuery): Promise<AdminEvent[]>;
}
