import pino from 'pino';
import type { Logger } from 'pino';
import { safeLogger } from '../logging';
import type { AdminEventSink, EventSink } from '../domain/events';
import { createServiceMetrics } from '../metrics';
import type { ServiceMetrics } from '../metrics';
import type { MongooseEventStore } from '../store/mongoose/event-store';
import { timed } from '../store/timed-user-store';
import type { StoreTimer } from '../store/timed-user-store';

/** Where the router logs and counts. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Times one database operation into `metrics`. */
  readonly observeDatabase: StoreTimer;
}

/** The host's logger (or a pino one of our own) and a metrics registry of this router's own. */
export function assembleObservability(logger: Logger | undefined): Observability {
  const metrics = createServiceMetrics();
  return { logger: safeLogger(logger ?? pino({ name: 'password-resources' })), metrics, observeDatabase: metrics.database.bind(metrics) };
}

/** The audit trail: the sinks the services record events into. */
export interface AuditSinks {
  readonly events: EventSink;
  readonly adminEvents: AdminEventSink;
}

/**
 * Events are logged always and stored best effort, so a change that happened
 * is never reported as failed because its record could not be written.
 */
export function assembleAuditSinks(eventStore: MongooseEventStore, { logger, metrics, observeDatabase }: Observability): AuditSinks {
  return {
    events: {
      async record(event) {
        metrics.event(event.type);
        logger.info({ event }, 'audit event');
        try {
          await timed('insertEvent', observeDatabase, () => eventStore.insert(event));
        } catch (error) {
          logger.error({ err: error, event }, 'audit event not stored');
        }
      },
    },
    adminEvents: {
      async recordAdmin(event) {
        logger.info({ adminEvent: event }, 'admin event');
        try {
          await eventStore.insertAdmin(event);
        } catch (error) {
          logger.error({ err: error, adminEvent: event }, 'admin event not stored');
        }
      },
    },
  };
}
