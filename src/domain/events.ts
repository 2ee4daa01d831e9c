/**
 * Audit events, with Keycloak's event type names where Keycloak has one. An
 * event never holds a secret: no password, hash or token.
 */

export type EventType =
  | 'VALIDATE_PASSWORD'
  | 'VALIDATE_PASSWORD_ERROR'
  | 'UPDATE_PASSWORD'
  | 'UPDATE_PASSWORD_ERROR'
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
