/**
 * One request's time for its database: fixed when the request arrives, and
 * spent only while the request waits on the database. Every store operation
 * the request makes gets what is left and gives up (`StoreUnavailableError`)
 * when it runs out, so no request waits on its database longer than its
 * budget in all.
 *
 * A wall-clock deadline from arrival would count the wait for a hash against
 * the database too: a burst the cores serve in two seconds would spend its
 * hashes and then fail its writes. The time between database calls (the hash,
 * the token check) is the hash queue's to bound, not this.
 */
export class DatabaseBudget {
  #leftMs: number;

  private constructor(ms: number) {
    this.#leftMs = ms;
  }

  /** A budget of `ms` milliseconds. */
  static of(ms: number): DatabaseBudget {
    return new DatabaseBudget(ms);
  }

  /** Milliseconds left, rounded down, never below 0. */
  remainingMs(): number {
    return Math.max(0, Math.floor(this.#leftMs));
  }

  /**
   * Time `work`, a wait on the database, against the budget: resolves to its
   * result, or to `undefined` once the budget is spent (`work` goes on; its
   * failure is its owner's to report). The time waited is spent either way.
   */
  async bound<T>(work: Promise<T>): Promise<T | undefined> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const spent = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        resolve(undefined);
      }, this.remainingMs());
    });
    try {
      return await Promise.race([work, spent]);
    } finally {
      clearTimeout(timer);
      this.#leftMs -= performance.now() - started;
    }
  }
}
