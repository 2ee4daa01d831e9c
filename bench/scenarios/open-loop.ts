/** Requests at a fixed rate whatever the answers: below the limit, and three times over it; and a burst at once. */
import { burst, openLoop } from '../load';
import { BURST, OVERLOAD_ONSET_SECONDS, PASSWORD, PHASE_SECONDS } from '../settings';
import type { BenchSet } from './set';

export async function openLoops(set: BenchSet, limit: number): Promise<void> {
  const { port } = set.service;
  await set.run('validate at 80% of the limit', [200], () => openLoop({ port, rate: 0.8 * limit, seconds: PHASE_SECONDS, timeoutMs: 10_000, next: set.validateAs(PASSWORD) }));
  // Sustained: its onset (the interval that tells it from a burst, and draining what was admitted meanwhile) reported apart.
  await set.runSplit(
    [200],
    () => openLoop({ port, rate: 3 * limit, seconds: OVERLOAD_ONSET_SECONDS + PHASE_SECONDS, measureFrom: OVERLOAD_ONSET_SECONDS, timeoutMs: 30_000, next: set.validateAs(PASSWORD) }),
    (result) => [
      [`overload onset: the first ${OVERLOAD_ONSET_SECONDS} s at 3x the limit`, result.onset ?? result],
      ['overload: validate at 3x the limit', result],
    ],
  );
  // A login storm: requests at once, each on a connection of its own, from as many users.
  await set.run(`burst: ${BURST} validations at once`, [200], () => burst({ port, count: BURST, timeoutMs: 60_000, next: set.validateAs(PASSWORD) }));
}
