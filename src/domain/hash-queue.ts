import { TemporarilyUnavailableError } from '../errors';
import type { HashOptions, HashScheme, PasswordHasher } from './hashing';
import type { Credential } from './store';

/**
 * How hashing work is admitted: by the time the waiting work needs, not by a
 * count. `budgetMs` bounds what a burst may queue, `intervalMs` tells a burst
 * from a standing overload.
 */
export interface HashQueueLimits {
  /** Hashes running at once; one per core keeps every core busy without oversubscribing them. */
  readonly concurrency: number;
  /**
   * The most time the work already waiting may need before a new hash would
   * start (waiting hashes x measured hash time / concurrency); one more is
   * refused at once with `HashQueueFullError`, and a hash that waited this
   * long is refused then.
   */
  readonly budgetMs: number;
  /**
   * How long hashes must arrive faster than the cores finish them, with more
   * than one hash time of work waiting all along, before it counts as a
   * standing overload (admission shrinks to one hash time, newest first).
   * Longer than the time a burst takes to arrive.
   */
  readonly intervalMs: number;
}

/** Why a hash was refused. */
export type HashRefusal = 'budget' | 'overload' | 'expired' | 'abandoned';

/** What the queue tells an observer (metrics); every method is optional. */
export interface HashQueueObserver {
  /** The number of hashes running and waiting changed. */
  depth?(running: number, waiting: number): void;
  /** A hash was refused: over the budget, in a standing overload, waited past the budget, or its caller went away. */
  rejected?(reason: HashRefusal): void;
  /** A hash waited `waitSeconds` for its turn, then ran for `runSeconds`. */
  completed?(operation: 'hash' | 'verify', waitSeconds: number, runSeconds: number): void;
  /** A standing overload began (`true`) or ended. */
  overload?(overloaded: boolean): void;
  /** The estimate of one hash's time changed, in seconds. */
  hashTime?(seconds: number): void;
}

/** A hasher whose work goes through the time-budgeted queue. */
export interface QueuedHasher extends PasswordHasher {
  /** Hashes running now. */
  readonly running: number;
  /** Hashes waiting for a turn now. */
  readonly waiting: number;
  /** Whether a standing overload is being shed now. */
  readonly overloaded: boolean;
  /** The measured time of one hash or verification, in ms (a moving average). */
  readonly hashTimeMs: number;
  /**
   * Throws `HashQueueFullError` now when a hash arriving now would be refused,
   * so that work before the hash (a database write) is not done for nothing.
   * Admission itself happens when the hash is asked for.
   */
  refuseIfFull(): void;
  /** Time one hash of a throwaway password in `scheme`, so that admission starts from a measurement. Never throws. */
  calibrate(scheme: HashScheme): Promise<void>;
}

/**
 * 503: more password work arrived than the cores can do within the budget,
 * or the overload is standing. `Retry-After` is the time the queued work
 * needs, in whole seconds (at least 1).
 */
export class HashQueueFullError extends TemporarilyUnavailableError {
  override readonly retryAfterSeconds: number;
  constructor(
    readonly reason: HashRefusal,
    retryAfterSeconds: number,
  ) {
    super(
      reason === 'abandoned'
        ? 'The client went away before its password was checked.'
        : 'The service has more password checks to do than it can take now; retry in a moment.',
      { detail: `hash queue: ${reason}` },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Check limits up front; the message names the limit, the value and what is expected.
 * Returns undefined when all are fine.
 */
export function hashQueueLimitsProblem(limits: HashQueueLimits): string | undefined {
  if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1 || limits.concurrency > 1024) {
    return `concurrency: must be an integer from 1 to 1024, got ${JSON.stringify(limits.concurrency)}`;
  }
  if (!Number.isInteger(limits.budgetMs) || limits.budgetMs < 0 || limits.budgetMs > 600_000) {
    return `budgetMs: must be an integer from 0 to 600000, got ${JSON.stringify(limits.budgetMs)}`;
  }
  if (!Number.isInteger(limits.intervalMs) || limits.intervalMs < 10 || limits.intervalMs > 600_000) {
    return `intervalMs: must be an integer from 10 to 600000, got ${JSON.stringify(limits.intervalMs)}`;
  }
  return undefined;
}

/** The estimate before anything is measured: bcrypt at cost 12 on one core of a 2020s server. */
const INITIAL_HASH_MS = 250;
/** Weight of the newest measurement in the moving average: about the last ten hashes count. */
const SMOOTHING = 0.1;

interface Waiter {
  readonly enqueuedAt: number;
  /** Admitted during a standing overload: promised to start within about one hash time. */
  readonly fresh: boolean;
  start(): void;
}

/** Cumulative arrivals and completions at an instant, to compare their rates over a window. */
interface Sample {
  readonly at: number;
  readonly arrivals: number;
  readonly completions: number;
}

/**
 * Wrap a hasher so that at most `concurrency` hashes run at once (the
 * bindings' async APIs queue without bound inside libuv's threadpool otherwise), with
 * admission by time, after Facebook's CoDel with adaptive LIFO
 * (queue.acm.org/detail.cfm?id=2839461):
 *
 * - A hash is admitted while the work waiting ahead of it (waiting hashes x
 *   the measured hash time / concurrency) stays within `budgetMs`, so a burst
 *   the cores finish within the budget is answered in full, first come first
 *   served. Beyond it: `503` at once, `Retry-After` the measured drain time.
 * - When hashes keep arriving faster than the cores finish them, with more
 *   than one hash time of work waiting, for `intervalMs`, the overload is
 *   standing: a hash is then admitted only if it would start within one hash
 *   time, and the newest waiting one runs first (adaptive LIFO), so those
 *   admitted are answered fast; a hash admitted during the overload that has
 *   waited one hash time goes next, so none starves. It ends when the line
 *   empties.
 * - A hash that waited `budgetMs` is refused then; one whose caller's
 *   `signal` aborted is dropped before it runs.
 *
 * Work that needs no hash (bad token, locked user, bad body) never reaches
 * the queue, so it never waits here.
 *
 * @example
 * const hasher = createHashQueue(createPasswordHasher(), { concurrency: 4, budgetMs: 10_000, intervalMs: 1_000 });
 * await hasher.verify(password, credential, { signal }); // or throws HashQueueFullError
 */
export function createHashQueue(inner: PasswordHasher, limits: HashQueueLimits, observer: HashQueueObserver = {}, now: () => number = () => performance.now()): QueuedHasher {
  const problem = hashQueueLimitsProblem(limits);
  if (problem) throw new RangeError(`hash queue ${problem}`);
  return new TimedHashQueue(inner, limits, observer, now);
}

/** The queue `createHashQueue` makes: the state, and one method per step of a hash's way through it. */
class TimedHashQueue implements QueuedHasher {
  /** Oldest first. */
  readonly #line: Waiter[] = [];
  #running = 0;
  #hashMs = INITIAL_HASH_MS;
  #measured = false;
  #overloaded = false;
  #overloadSince = 0;
  /** Since when more than one hash time of work has waited, without a break. */
  #aboveSince: number | undefined;
  #arrivals = 0;
  #completions = 0;
  /** Samples a sixteenth of an interval apart, covering the last interval. */
  readonly #samples: Sample[] = [];

  constructor(
    private readonly inner: PasswordHasher,
    private readonly limits: HashQueueLimits,
    private readonly observer: HashQueueObserver,
    private readonly now: () => number,
  ) {}

  hash(password: string, scheme: HashScheme, options?: HashOptions): Promise<Credential> {
    return this.#run('hash', options, () => this.inner.hash(password, scheme));
  }

  verify(password: string, credential: Credential, options?: HashOptions): Promise<boolean> {
    return this.#run('verify', options, () => this.inner.verify(password, credential));
  }

  needsRehash(credential: Credential, scheme: HashScheme): boolean {
    return this.inner.needsRehash(credential, scheme);
  }

  refuseIfFull(): void {
    const refusal = this.#admissionRefusal();
    if (refusal === undefined) return;
    // Counted as an arrival: a standing overload lasts while refused work keeps coming.
    this.#arrivals += 1;
    this.#observe(this.now());
    throw this.#refuse(refusal);
  }

  async calibrate(scheme: HashScheme): Promise<void> {
    const startedAt = this.now();
    try {
      await this.inner.hash('calibration: not a password anyone has', scheme);
      this.#measure(this.now() - startedAt);
    } catch {
      // The first real hashes measure instead.
    }
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#line.length;
  }

  get overloaded(): boolean {
    return this.#overloaded;
  }

  get hashTimeMs(): number {
    return this.#hashMs;
  }

  async #run<T>(operation: 'hash' | 'verify', options: HashOptions | undefined, work: () => Promise<T>): Promise<T> {
    const signal = options?.signal;
    const queuedAt = await this.#acquire(signal);
    try {
      // The caller left while this waited: the slot goes to the next one, nothing is hashed.
      if (signal?.aborted === true) throw this.#refuse('abandoned');
      const startedAt = this.now();
      const result = await work();
      const ranMs = this.now() - startedAt;
      this.#measure(ranMs);
      this.observer.completed?.(operation, (startedAt - queuedAt) / 1000, ranMs / 1000);
      return result;
    } finally {
      this.#release();
    }
  }

  /** Resolves when a slot is ours; throws when refused, when the wait passes the budget, or when `signal` aborts. */
  async #acquire(signal: AbortSignal | undefined): Promise<number> {
    const at = this.now();
    this.#arrivals += 1;
    if (signal?.aborted === true) throw this.#refuse('abandoned');
    const refusal = this.#admissionRefusal();
    if (refusal !== undefined) {
      this.#observe(at);
      throw this.#refuse(refusal);
    }
    if (this.#running < this.limits.concurrency) {
      this.#running += 1;
      this.#observe(at);
      this.#report();
      return at;
    }
    await this.#wait(at, signal);
    return at;
  }

  /** Wait in line until `start()`, or leave it when the budget runs out or `signal` aborts. */
  #wait(at: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leave = (reason: HashRefusal): void => {
        const index = this.#line.indexOf(waiter);
        if (index < 0) return;
        this.#line.splice(index, 1);
        cleanup();
        this.#observe(this.now());
        this.#report();
        reject(this.#refuse(reason));
      };
      const onAbort = (): void => {
        leave('abandoned');
      };
      const timer = setTimeout(() => {
        leave('expired');
      }, this.limits.budgetMs);
      timer.unref();
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        enqueuedAt: at,
        fresh: this.#overloaded,
        start: () => {
          cleanup();
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#line.push(waiter);
      this.#observe(at);
      this.#report();
    });
  }

  /** Hand the slot to the next in line (running stays the same), or free it. */
  #release(): void {
    const at = this.now();
    this.#completions += 1;
    const waiter = this.#next(at);
    if (waiter) waiter.start();
    else this.#running -= 1;
    this.#observe(at);
    this.#report();
  }

  /** The next waiter to run: first come first served, or in a standing overload the newest, unless one admitted then has waited a hash time. */
  #next(at: number): Waiter | undefined {
    if (!this.#overloaded) return this.#line.shift();
    const starving = this.#line.findIndex((w) => w.fresh && at - w.enqueuedAt >= this.#hashMs);
    return starving >= 0 ? this.#line.splice(starving, 1)[0] : this.#line.pop();
  }

  #admissionRefusal(): HashRefusal | undefined {
    const { concurrency, budgetMs } = this.limits;
    if (this.#running < concurrency && this.#line.length === 0) return undefined;
    if (this.#overloaded) return this.#line.length < concurrency ? undefined : 'overload';
    // The time until a hash arriving now would start, every slot being busy.
    return ((this.#line.length + 1) * this.#hashMs) / concurrency <= budgetMs ? undefined : 'budget';
  }

  #refuse(reason: HashRefusal): HashQueueFullError {
    this.observer.rejected?.(reason);
    const drainMs = ((this.#line.length + this.#running) * this.#hashMs) / this.limits.concurrency;
    return new HashQueueFullError(reason, Math.max(1, Math.ceil(drainMs / 1000)));
  }

  /**
   * After every change. A standing overload begins when more than one hash
   * time of work has waited for an interval without a break while, over the
   * second half of it, hashes still arrived faster than they finished (a
   * burst that has stopped arriving is only draining). It ends when they no
   * longer do over half an interval, or when nothing is left to do.
   */
  #observe(at: number): void {
    const { intervalMs, concurrency } = this.limits;
    this.#sample(at);
    if (this.#overloaded) {
      const recent = this.#since(Math.max(this.#overloadSince, at - intervalMs / 2), at);
      if ((this.#running === 0 && this.#line.length === 0) || (recent !== undefined && recent.arrivals <= recent.completions)) this.#setOverloaded(false, at);
      return;
    }
    if (this.#line.length <= concurrency) {
      this.#aboveSince = undefined;
      return;
    }
    this.#aboveSince ??= at;
    if (at - this.#aboveSince < intervalMs) return;
    const recent = this.#since(Math.max(this.#aboveSince + intervalMs / 2, at - intervalMs / 2), at);
    if (recent !== undefined && recent.arrivals > recent.completions) this.#setOverloaded(true, at);
  }

  #setOverloaded(value: boolean, at: number): void {
    this.#overloaded = value;
    this.#overloadSince = at;
    this.#aboveSince = undefined;
    this.observer.overload?.(value);
  }

  #sample(at: number): void {
    const { intervalMs } = this.limits;
    const last = this.#samples.at(-1);
    if (last === undefined || at - last.at >= intervalMs / 16) this.#samples.push({ at, arrivals: this.#arrivals, completions: this.#completions });
    while (this.#samples.length > 1 && (this.#samples[1]?.at ?? at) <= at - intervalMs) this.#samples.shift();
  }

  /** Arrivals and completions since the first sample at or after `from`, if that sample is a quarter interval old. */
  #since(from: number, at: number): { arrivals: number; completions: number } | undefined {
    const base = this.#samples.find((s) => s.at >= from);
    if (base === undefined || base.at > at - this.limits.intervalMs / 4) return undefined;
    return { arrivals: this.#arrivals - base.arrivals, completions: this.#completions - base.completions };
  }

  #measure(ms: number): void {
    this.#hashMs = this.#measured ? this.#hashMs + SMOOTHING * (ms - this.#hashMs) : ms;
    this.#measured = true;
    this.observer.hashTime?.(this.#hashMs / 1000);
  }

  #report(): void {
    this.observer.depth?.(this.#running, this.#line.length);
  }
}
