/**
 * Keycloak's brute force detector, as pure functions: the service keeps the
 * counters in the store (atomic, shared by every instance) and asks these what
 * a failure means. Names and meanings are Keycloak's realm settings.
 */

/** A realm's brute force settings, with Keycloak's names. */
export interface BruteForceSettings {
  /** Failures before a lockout (Keycloak's "Max login failures"). */
  readonly failureFactor: number;
  /** Each `failureFactor` failures lock for this much longer. */
  readonly waitIncrementSeconds: number;
  /** A temporary lockout never lasts longer. */
  readonly maxFailureWaitSeconds: number;
  /** Failures further apart than this start counting again (Keycloak's `maxDeltaTimeSeconds`). */
  readonly failureResetTimeSeconds: number;
  /** Two failures closer than this lock for `minimumQuickLoginWaitSeconds`; 0 turns it off. */
  readonly quickLoginCheckMilliSeconds: number;
  readonly minimumQuickLoginWaitSeconds: number;
  /** Disable the user instead of locking temporarily (after `maxTemporaryLockouts` temporary ones). */
  readonly permanentLockout: boolean;
  readonly maxTemporaryLockouts: number;
}

/**
 * Keycloak's semantics with safer numbers for an endpoint that answers "is this
 * the password": Keycloak's own failureFactor of 30 lets a stolen token try 30
 * guesses per lockout; 5 matches the design's example and common practice.
 */
export const DEFAULT_BRUTE_FORCE: BruteForceSettings = Object.freeze({
  failureFactor: 5,
  waitIncrementSeconds: 60,
  maxFailureWaitSeconds: 900,
  failureResetTimeSeconds: 43_200,
  quickLoginCheckMilliSeconds: 1_000,
  minimumQuickLoginWaitSeconds: 60,
  permanentLockout: false,
  maxTemporaryLockouts: 0,
});

/** What the store tells about one failure it just counted. */
export interface CountedFailure {
  /** Failures in the current series, this one included. */
  readonly count: number;
  /** When the previous failure of the series happened, if any. */
  readonly previousFailureAt: Date | undefined;
  /** Temporary lockouts so far. */
  readonly temporaryLockouts: number;
}

/** What a failure leads to. */
export type LockoutDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'temporary'; readonly until: Date; readonly counts: boolean }
  | { readonly kind: 'permanent' };

/**
 * Keycloak's rule: wait = waitIncrement x floor(failures / failureFactor),
 * capped at maxFailureWait; a quick second failure waits at least
 * minimumQuickLoginWait. With failureFactor 5 the fifth failure locks, so the
 * sixth attempt is refused.
 */
export function decideLockout(settings: BruteForceSettings, failure: CountedFailure, now: Date): LockoutDecision {
  const steps = Math.floor(failure.count / settings.failureFactor);
  if (steps > 0 && settings.permanentLockout && failure.temporaryLockouts >= settings.maxTemporaryLockouts) {
    return { kind: 'permanent' };
  }
  let waitSeconds = settings.waitIncrementSeconds * steps;
  const quick =
    settings.quickLoginCheckMilliSeconds > 0 &&
    failure.previousFailureAt !== undefined &&
    now.getTime() - failure.previousFailureAt.getTime() < settings.quickLoginCheckMilliSeconds;
  if (waitSeconds === 0 && quick) waitSeconds = settings.minimumQuickLoginWaitSeconds;
  if (waitSeconds === 0) return { kind: 'none' };
  const seconds = Math.min(settings.maxFailureWaitSeconds, waitSeconds);
  // Only lockouts reached by failureFactor count towards maxTemporaryLockouts, as in Keycloak.
  return { kind: 'temporary', until: new Date(now.getTime() + seconds * 1000), counts: steps > 0 };
}

/** Seconds until a lockout ends, rounded up; `undefined` when not locked. */
export function retryAfterSeconds(lockedUntil: Date | undefined, now: Date): number | undefined {
  if (lockedUntil === undefined || lockedUntil.getTime() <= now.getTime()) return undefined;
  return Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000);
}
