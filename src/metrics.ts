import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventType } from './domain/events';
import type { HashQueueObserver } from './domain/hash-queue';

/** Every metric's name starts with this. */
export const METRIC_PREFIX = 'password_resources_';

/**
 * Buckets in seconds for bcrypt: cost 10 is ~50 ms on one core, 15 about 32
 * times that; queue waits range from nothing to a few hashes.
 */
const HASH_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 4, 8];
/** A loopback or LAN database answers in well under a millisecond to a few; over 100 ms is trouble. */
const DATABASE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** The service's metrics, in a registry of its own (never prom-client's global one). */
export interface ServiceMetrics {
  /** Where every metric of this router lives; the standalone app serves it on `/metrics`. */
  readonly registry: Registry;
  /** Feeds the hash queue's depth, rejections and durations. */
  readonly hashQueue: HashQueueObserver;
  /** One audit event was recorded (lockouts among them). */
  event(type: EventType): void;
  /** A key set fetch of `realm` succeeded, or a request was refused because it failed. */
  jwks(realm: string, outcome: 'fetched' | 'failed'): void;
  /** A database operation took `seconds`; `ok` is false when it threw. */
  database(operation: string, seconds: number, ok: boolean): void;
  /** A mail of `kind` was sent, or could not be. */
  email(kind: string, outcome: 'sent' | 'failed'): void;
}

/**
 * Create the router's metrics in a fresh `Registry`, so that several routers in
 * one process (tests, a host mounting two) never clash on names.
 *
 * @example
 * const metrics = createServiceMetrics();
 * metrics.event('USER_DISABLED_BY_TEMPORARY_LOCKOUT');
 * await metrics.registry.metrics(); // Prometheus text
 */
export function createServiceMetrics(): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    hashQueue: hashQueueMetrics(registers),
    event: eventMetrics(registers),
    jwks: jwksMetrics(registers),
    database: databaseMetrics(registers),
    email: emailMetrics(registers),
  };
}

type Registers = Registry[];

function hashQueueMetrics(registers: Registers): HashQueueObserver {
  const hashRunning = new Gauge({ name: `${METRIC_PREFIX}hash_running`, help: 'Password hashes running now.', registers });
  const hashWaiting = new Gauge({ name: `${METRIC_PREFIX}hash_queue_waiting`, help: 'Password hashes waiting for a hashing slot now.', registers });
  const hashRejected = new Counter({
    name: `${METRIC_PREFIX}hash_queue_rejected_total`,
    help: 'Password hashes refused (503): over the time budget, shed in a standing overload, waited past the budget, or whose client went away (abandoned).',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of ['budget', 'overload', 'expired', 'abandoned']) hashRejected.inc({ reason }, 0);
  const hashOverloaded = new Gauge({ name: `${METRIC_PREFIX}hash_queue_overloaded`, help: '1 while a standing overload is shed (newest first, admission within one hash time), else 0.', registers });
  const hashTime = new Gauge({ name: `${METRIC_PREFIX}hash_time_estimate_seconds`, help: 'The moving average of one hash or verification that admission reckons with.', registers });
  const hashDuration = new Histogram({
    name: `${METRIC_PREFIX}hash_duration_seconds`,
    help: 'Time one password hash or verification ran, after its wait.',
    labelNames: ['operation'],
    buckets: HASH_BUCKETS,
    registers,
  });
  const hashWait = new Histogram({
    name: `${METRIC_PREFIX}hash_queue_wait_seconds`,
    help: 'Time a password hash waited for a hashing slot.',
    labelNames: ['operation'],
    buckets: HASH_BUCKETS,
    registers,
  });
  return {
    depth(running, waiting) {
      hashRunning.set(running);
      hashWaiting.set(waiting);
    },
    rejected(reason) {
      hashRejected.inc({ reason });
    },
    overload(overloaded) {
      hashOverloaded.set(overloaded ? 1 : 0);
    },
    hashTime(seconds) {
      hashTime.set(seconds);
    },
    completed(operation, waitSeconds, runSeconds) {
      hashWait.observe({ operation }, waitSeconds);
      hashDuration.observe({ operation }, runSeconds);
    },
  };
}

/** Audit events by type, and lockouts (which are events too) by kind. */
function eventMetrics(registers: Registers): ServiceMetrics['event'] {
  const events = new Counter({ name: `${METRIC_PREFIX}audit_events_total`, help: 'Audit events recorded, by type.', labelNames: ['type'], registers });
  const lockouts = new Counter({
    name: `${METRIC_PREFIX}lockouts_total`,
    help: 'Users locked out by the brute force detector, temporarily or permanently.',
    labelNames: ['kind'],
    registers,
  });
  for (const kind of ['temporary', 'permanent']) lockouts.inc({ kind }, 0);
  return (type) => {
    events.inc({ type });
    if (type === 'USER_DISABLED_BY_TEMPORARY_LOCKOUT') lockouts.inc({ kind: 'temporary' });
    if (type === 'USER_DISABLED_BY_PERMANENT_LOCKOUT') lockouts.inc({ kind: 'permanent' });
  };
}

function jwksMetrics(registers: Registers): ServiceMetrics['jwks'] {
  const jwksFetches = new Counter({ name: `${METRIC_PREFIX}jwks_fetches_total`, help: 'Key sets fetched from the realms\' identity providers.', labelNames: ['realm'], registers });
  const jwksFailures = new Counter({
    name: `${METRIC_PREFIX}jwks_failures_total`,
    help: 'Requests answered 503 because the realm\'s key set could not be fetched.',
    labelNames: ['realm'],
    registers,
  });
  return (realm, outcome) => {
    (outcome === 'fetched' ? jwksFetches : jwksFailures).inc({ realm });
  };
}

function databaseMetrics(registers: Registers): ServiceMetrics['database'] {
  const database = new Histogram({
    name: `${METRIC_PREFIX}database_duration_seconds`,
    help: 'Time of each database operation, by operation and outcome.',
    labelNames: ['operation', 'outcome'],
    buckets: DATABASE_BUCKETS,
    registers,
  });
  return (operation, seconds, ok) => {
    database.observe({ operation, outcome: ok ? 'ok' : 'error' }, seconds);
  };
}

function emailMetrics(registers: Registers): ServiceMetrics['email'] {
  const emails = new Counter({ name: `${METRIC_PREFIX}emails_total`, help: 'Mails handed to the SMTP server, or that it refused or could not take, by kind.', labelNames: ['kind', 'outcome'], registers });
  return (kind, outcome) => {
    emails.inc({ kind, outcome });
  };
}
