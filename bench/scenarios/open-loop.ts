/** Requests at a fixed rate whatever the answers: below the limit, and three times over it. */
import { openLoop } from '../load';
import { PASSWORD, PHASE_SECONDS } from '../settings';
import type { BenchSet } from './set';

export async function openLoops(set: BenchSet, limit: number): Promise<void> {
  const { port } = set.service;
  await set.run('validate at 80% of the limit', [200], () => openLoop({ port, rate: 0.8 * limit, seconds: PHASE_SECONDS, timeoutMs: 10_000, next: set.validateAs(PASSWORD) }));
  await set.run('overload: validate at 3x the limit', [200], () => openLoop({ port, rate: 3 * limit, seconds: PHASE_SECONDS, timeoutMs: 10_000, next: set.validateAs(PASSWORD) }));
}
