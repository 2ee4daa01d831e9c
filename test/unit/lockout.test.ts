import { decideLockout, DEFAULT_BRUTE_FORCE, retryAfterSeconds } from '../../src/domain/lockout';
import type { BruteForceSettings } from '../../src/domain/lockout';

const now = new Date('2026-01-01T00:00:00Z');
const ago = (ms: number): Date => new Date(now.getTime() - ms);
const settings = (overrides: Partial<BruteForceSettings> = {}): BruteForceSettings => ({ ...DEFAULT_BRUTE_FORCE, quickLoginCheckMilliSeconds: 0, ...overrides });

describe('decideLockout (Keycloak semantics)', () => {
  it.each([
    [1, undefined],
    [4, undefined],
    [5, 60],
    [9, 60],
    [10, 120],
    [15, 180],
    [1_000, 900], // capped at maxFailureWaitSeconds
  ])('after %i failures with failureFactor 5 locks for %p seconds', (count, seconds) => {
    const decision = decideLockout(settings(), { count, previousFailureAt: ago(60_000), temporaryLockouts: 0 }, now);
    if (seconds === undefined) expect(decision).toEqual({ kind: 'none' });
    else expect(decision).toEqual({ kind: 'temporary', until: new Date(now.getTime() + seconds * 1000), counts: true });
  });

  it('locks a quick second failure for the minimum quick-login wait, without counting a temporary lockout', () => {
    const quick = settings({ quickLoginCheckMilliSeconds: 1_000, minimumQuickLoginWaitSeconds: 30 });
    expect(decideLockout(quick, { count: 2, previousFailureAt: ago(500), temporaryLockouts: 0 }, now)).toEqual({
      kind: 'temporary',
      until: new Date(now.getTime() + 30_000),
      counts: false,
    });
    expect(decideLockout(quick, { count: 2, previousFailureAt: ago(1_500), temporaryLockouts: 0 }, now)).toEqual({ kind: 'none' });
    expect(decideLockout(quick, { count: 1, previousFailureAt: undefined, temporaryLockouts: 0 }, now)).toEqual({ kind: 'none' });
  });

  it('disables the user at failureFactor with permanentLockout, after maxTemporaryLockouts temporary ones', () => {
    expect(decideLockout(settings({ permanentLockout: true }), { count: 5, previousFailureAt: ago(9_000), temporaryLockouts: 0 }, now)).toEqual({ kind: 'permanent' });
    const twice = settings({ permanentLockout: true, maxTemporaryLockouts: 2 });
    expect(decideLockout(twice, { count: 5, previousFailureAt: ago(9_000), temporaryLockouts: 1 }, now).kind).toBe('temporary');
    expect(decideLockout(twice, { count: 10, previousFailureAt: ago(9_000), temporaryLockouts: 2 }, now)).toEqual({ kind: 'permanent' });
    expect(decideLockout(twice, { count: 4, previousFailureAt: ago(9_000), temporaryLockouts: 2 }, now)).toEqual({ kind: 'none' });
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    [undefined, undefined],
    [new Date(now.getTime() - 1), undefined],
    [now, undefined],
    [new Date(now.getTime() + 1), 1],
    [new Date(now.getTime() + 59_001), 60],
  ])('for a lock until %p is %p', (until, seconds) => {
    expect(retryAfterSeconds(until, now)).toBe(seconds);
  });
});
