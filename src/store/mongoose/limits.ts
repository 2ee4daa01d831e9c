import { DatabaseBudget } from '../../domain/database-budget';
import { StoreUnavailableError } from '../../domain/store';

/** What each query is given: the server's own limit on it (MongoDB's `maxTimeMS`). */
export interface QueryLimit {
  readonly maxTimeMS?: number;
}

/**
 * Node's socket errors that mean the database went away mid-command. The
 * driver (7.x) passes some on unwrapped: a write to a connection the server
 * closed (SIGKILL, a restart) rejects with Node's own `EPIPE`.
 */
const SOCKET_GONE = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

/**
 * Network errors, timeouts, server selection failures and maxTimeMS expiries: the database is away or too slow, not our bug.
 * Read by shape, not `instanceof Error`: Node's socket errors come from Node's own realm, which is not the caller's
 * in a vm context (jest's test environment is one).
 */
export function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  return (
    (typeof name === 'string' && /^Mongo(Network|NetworkTimeout|ServerSelection|NotConnected|TopologyClosed|PoolCleared|OperationTimeout)Error$/.test(name)) ||
    name === 'MongooseServerSelectionError' ||
    // MaxTimeMSExpired: the server gave up at our limit.
    code === MAX_TIME_MS_EXPIRED ||
    (typeof code === 'string' && SOCKET_GONE.has(code)) ||
    // Mongoose refuses to queue commands while disconnected (bufferCommands: false).
    (name === 'MongooseError' && typeof message === 'string' && /connection|buffering/i.test(message))
  );
}

const MAX_TIME_MS_EXPIRED = 50;

/** Store errors in the domain's terms: an unreachable database is `StoreUnavailableError`. */
export async function translate<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isUnavailable(error)) throw new StoreUnavailableError({ cause: error });
    throw error;
  }
}

/**
 * Run one store operation in the time left of the request's `budget`, or in
 * `fallbackMs` outside a request (the CLI; unset: the driver's timeouts alone). The server is told the limit
 * (`maxTimeMS`), and the wait is cut here too when the time runs out: a
 * stopped or unreachable server never answers, and the MongoDB driver (7.x)
 * no longer takes a per-operation timeout, so only this bounds server
 * selection and a hung socket by the request's budget. An operation cut off
 * may still complete in the background; the caller has answered 503, which
 * reports no success.
 * @throws StoreUnavailableError when no time is left, or none remains before an answer
 */
export async function limited<T>(budget: DatabaseBudget | undefined, fallbackMs: number | undefined, work: (limit: QueryLimit) => Promise<T>): Promise<T> {
  // Neither: the driver's own timeouts alone, as for a store built without options.
  if (budget === undefined && fallbackMs === undefined) return translate(() => work({}));
  const own = budget ?? DatabaseBudget.of(fallbackMs ?? 0);
  const ms = own.remainingMs();
  if (ms <= 0) throw new StoreUnavailableError({ cause: new Error('the request has no time left for the database') });
  const running = translate(() => work({ maxTimeMS: ms }));
  // Once cut off, its own failure (a socket timeout later) has nobody left to tell.
  running.catch(() => undefined);
  const outcome = await own.bound(running.then((value) => ({ value })));
  if (outcome === undefined) throw new StoreUnavailableError({ cause: new Error(`the database did not answer within ${ms} ms`) });
  return outcome.value;
}
