import { TemporarilyUnavailableError } from '../errors';
import type { PasswordHasher } from './hashing';

/** How many hashes run at once, and how many may wait for a turn. */
export interface HashQueueLimits {
  /** Hashes running at once; one per core keeps every core busy without oversubscribing them. */
  readonly concurrency: number;
  /** Hashes waiting for a turn; one more is refused at once with `HashQueueFullError`. */
  readonly maxWaiting: number;
}

/** What the queue tells an observer (metrics); every method is optional. */
export interface HashQueueObserver {
  /** The number of hashes running and waiting changed. */
  depth?(running: number, waiting: number): void;
  /** A hash was refused because the waiting line was full. */
  rejected?(): void;
  /** A hash waited `waitSeconds` for its turn, then ran for `runSeconds`. */
  completed?(operation: 'hash' | 'verify', waitSeconds: number, runSeconds: number): void;
}

/** A hasher whose work goes through a bounded queue. */
export interface QueuedHasher extends PasswordHasher {
  /** Hashes running now. */
  readonly running: number;
  /** Hashes waiting for a turn now. */
  readonly waiting: number;
}

/**
 * 503: more password work arrived than the cores can do in a bounded time.
 * `Retry-After: 1`, since a slot frees up within a few hashes' time.
 */
export class HashQueueFullError extends TemporarilyUnavailableError {
  override readonly retryAfterSeconds = 1;
  constructor() {
    super('The service has more password checks to do than it can take now; retry in a moment.', { detail: 'hash queue full' });
  }
}

/**
 * Check limits up front; the message names the limit, the value and what is expected.
 * Returns undefined when both are fine.
 */
export function hashQueueLimitsProblem(limits: HashQueueLimits): string | undefined {
  if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1 || limits.concurrency > 1024) {
    return `concurrency: must be an integer from 1 to 1024, got ${JSON.stringify(limits.concurrency)}`;
  }
  if (!Number.isInteger(limits.maxWaiting) || limits.maxWaiting < 0 || limits.maxWaiting > 1_000_000) {
    return `maxWaiting: must be an integer from 0 to 1000000, got ${JSON.stringify(limits.maxWaiting)}`;
  }
  return undefined;
}

/**
 * Wrap a hasher so that at most `concurrency` hashes run at once (the
 * bindings' async APIs queue without bound inside libuv's threadpool otherwise) and at
 * most `maxWaiting` wait; the next one is refused at once with
 * `HashQueueFullError` (503, `Retry-After`), so latency stays bounded under
 * overload instead of growing with the backlog. Waiting hashes run in arrival
 * order. Work that needs no hash (bad token, locked user, bad body) never
 * reaches the hasher, so it never waits here.
 *
 * @example
 * const hasher = createHashQueue(createPasswordHasher(), { concurrency: 4, maxWaiting: 8 });
 * await hasher.verify(password, credential); // or throws HashQueueFullError when 4 run and 8 wait
 */
export function createHashQueue(inner: PasswordHasher, limits: HashQueueLimits, observer: HashQueueObserver = {}, now: () => number = () => performance.now()): QueuedHasher {
  const problem = hashQueueLimitsProblem(limits);
  if (problem) throw new RangeError(`hash queue ${problem}`);
  const line: (() => void)[] = [];
  let running = 0;

  const report = (): void => {
    observer.depth?.(running, line.length);
  };

  /** Resolves when a slot is ours; throws at once when none is free and the line is full. */
  const acquire = async (): Promise<void> => {
    if (running < limits.concurrency) {
      running += 1;
      report();
      return;
    }
    if (line.length >= limits.maxWaiting) {
      observer.rejected?.();
      throw new HashQueueFullError();
    }
    await new Promise<void>((resolve) => {
      line.push(resolve);
      report();
    });
  };

  /** Hand the slot to the next in line (running stays the same), or free it. */
  const release = (): void => {
    const next = line.shift();
    if (next) next();
    else running -= 1;
    report();
  };

  const run = async <T>(operation: 'hash' | 'verify', work: () => Promise<T>): Promise<T> => {
    const queuedAt = now();
    await acquire();
    const startedAt = now();
    try {
      return await work();
    } finally {
      observer.completed?.(operation, (startedAt - queuedAt) / 1000, (now() - startedAt) / 1000);
      release();
    }
  };

  return {
    hash: (password, scheme) => run('hash', () => inner.hash(password, scheme)),
    verify: (password, credential) => run('verify', () => inner.verify(password, credential)),
    needsRehash: (credential, scheme) => inner.needsRehash(credential, scheme),
    get running() {
      return running;
    },
    get waiting() {
      return line.length;
    },
  };
}
