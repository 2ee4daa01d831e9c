/**
 * Closed loops at saturation: as many requests in flight as the hash queue
 * takes, so none is shed; throughput against bcrypt's own limit.
 */
import { bcryptLimit } from '../fixtures';
import { closedLoop } from '../load';
import { drained } from '../service';
import { CONCURRENCY, fmt, JSON_CONTENT, log, PASSWORD, PHASE_SECONDS, RESET, SATURATION_CONNECTIONS } from '../settings';
import type { BenchSet, Limit } from './set';

/** The key set fetched, code paths compiled, connections pooled. */
export async function warmUp(set: BenchSet): Promise<void> {
  await closedLoop({ port: set.service.port, connections: SATURATION_CONNECTIONS, seconds: 1, next: set.validateAs(PASSWORD) });
  await drained(set.service.port);
}

/** validate-password with the right password, between two measurements of bcrypt's limit, averaged. */
export async function validateRight(set: BenchSet): Promise<Limit> {
  const before = await bcryptLimit(PHASE_SECONDS);
  await set.run('validate (right)', [200], () => closedLoop({ port: set.service.port, connections: SATURATION_CONNECTIONS, seconds: PHASE_SECONDS, next: set.validateAs(PASSWORD) }));
  await drained(set.service.port);
  const after = await bcryptLimit(PHASE_SECONDS);
  const limit = {
    checksPerSecond: (before.checksPerSecond + after.checksPerSecond) / 2,
    singleCheckMs: (before.singleCheckMs + after.singleCheckMs) / 2,
    spread: [before.checksPerSecond, after.checksPerSecond],
  };
  log(`limit: bcrypt alone ${fmt(before.checksPerSecond)} then ${fmt(after.checksPerSecond)} checks/s with ${CONCURRENCY} at once; one check ${fmt(limit.singleCheckMs)} ms`);
  return limit;
}

/** Last in a set: wrong passwords and changes write to the user's document, which the other phases only read. */
export async function writes(set: BenchSet): Promise<void> {
  const { port } = set.service;
  await set.run('validate (wrong)', [200], () => closedLoop({ port, connections: SATURATION_CONNECTIONS, seconds: PHASE_SECONDS, next: set.validateAs('not the password') }));
  let resetIndex = 0;
  await set.run('reset-password', [204], () =>
    closedLoop({
      port,
      connections: SATURATION_CONNECTIONS,
      seconds: PHASE_SECONDS,
      next: () => {
        const i = resetIndex++;
        return {
          method: 'POST',
          path: RESET,
          headers: { ...JSON_CONTENT, authorization: `Bearer ${set.resetTokens[i % set.resetTokens.length] ?? ''}` },
          body: JSON.stringify({ currentPassword: PASSWORD, newPassword: `a new passphrase number ${i}` }),
        };
      },
    }),
  );
}
