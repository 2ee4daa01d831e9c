import type { UserStore } from '../domain/store';

/** Told the duration of each store operation, in seconds, and whether it succeeded. */
export type StoreTimer = (operation: string, seconds: number, ok: boolean) => void;

/** Time one promise-returning call; the result and any error pass through unchanged. */
export async function timed<T>(operation: string, observe: StoreTimer, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  let ok = false;
  try {
    const result = await work();
    ok = true;
    return result;
  } finally {
    observe(operation, (performance.now() - start) / 1000, ok);
  }
}

/**
 * A `UserStore` that reports how long each operation took (database latency as
 * the service sees it, whatever the implementation), and otherwise is `store`.
 */
export function timedUserStore(store: UserStore, observe: StoreTimer): UserStore {
  return {
    init: () => timed('init', observe, () => store.init()),
    findById: (realm, id) => timed('findById', observe, () => store.findById(realm, id)),
    findByUsername: (realm, username) => timed('findByUsername', observe, () => store.findByUsername(realm, username)),
    create: (user) => timed('create', observe, () => store.create(user)),
    insertMany: (users) => timed('insertMany', observe, () => store.insertMany(users)),
    existingIds: (realm, ids) => timed('existingIds', observe, () => store.existingIds(realm, ids)),
    compareAndSetCredential: (change) => timed('compareAndSetCredential', observe, () => store.compareAndSetCredential(change)),
    rehashCredential: (rehash) => timed('rehashCredential', observe, () => store.rehashCredential(rehash)),
    reserveAttempt: (realm, id, request) => timed('reserveAttempt', observe, () => store.reserveAttempt(realm, id, request)),
    releaseAttempt: (realm, id, count) => timed('releaseAttempt', observe, () => store.releaseAttempt(realm, id, count)),
    refillAttempts: (realm, id, lastFailureAt, budget) => timed('refillAttempts', observe, () => store.refillAttempts(realm, id, lastFailureAt, budget)),
    lockTemporarily: (realm, id, lock) => timed('lockTemporarily', observe, () => store.lockTemporarily(realm, id, lock)),
    takeChangeLease: (realm, id, lease, now, until) => timed('takeChangeLease', observe, () => store.takeChangeLease(realm, id, lease, now, until)),
    releaseChangeLease: (realm, id, lease) => timed('releaseChangeLease', observe, () => store.releaseChangeLease(realm, id, lease)),
    disable: (realm, id) => timed('disable', observe, () => store.disable(realm, id)),
    clearFailures: (realm, id) => timed('clearFailures', observe, () => store.clearFailures(realm, id)),
    find: (realm, filter, page) => timed('find', observe, () => store.find(realm, filter, page)),
    count: (realm, filter) => timed('count', observe, () => store.count(realm, filter)),
    update: (realm, id, patch) => timed('update', observe, () => store.update(realm, id, patch)),
    delete: (realm, id) => timed('delete', observe, () => store.delete(realm, id)),
    removeCredential: (realm, id, expectedHash, changedAt) => timed('removeCredential', observe, () => store.removeCredential(realm, id, expectedHash, changedAt)),
    recordPasswordChange: (realm, id, changedAt, requiredActions) =>
      timed('recordPasswordChange', observe, () => store.recordPasswordChange(realm, id, changedAt, requiredActions)),
    ping: () => timed('ping', observe, () => store.ping()),
    within: (budget) => timedUserStore(store.within(budget), observe),
  };
}
