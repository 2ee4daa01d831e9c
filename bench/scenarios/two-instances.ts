/** A second instance on the same database, both behind a round-robin balancer: instances share nothing but MongoDB. */
import { closedLoop, latenciesOf, percentile } from '../load';
import type { Phase } from '../phase';
import { drained, roundRobin, startService } from '../service';
import { log, PASSWORD, PHASE_SECONDS, SATURATION_CONNECTIONS } from '../settings';
import type { BenchSet } from './set';

export async function twoInstances(set: BenchSet, env: Record<string, string>): Promise<Phase> {
  await drained(set.service.port);
  const second = await startService(env);
  const balancer = await roundRobin([set.service.port, second.port]);
  try {
    const both = await closedLoop({ port: balancer.port, connections: 2 * SATURATION_CONNECTIONS, seconds: PHASE_SECONDS, next: set.validateAs(PASSWORD) });
    const all = latenciesOf(both, [200]);
    const combined: Phase = {
      name: 'two instances, round-robin: validate (right)',
      users: set.users,
      expected: [200],
      throughput: all.length / both.seconds,
      p50Ms: percentile(all, 50),
      p99Ms: percentile(all, 99),
      eventLoopP99Ms: NaN,
      peakRssMb: NaN,
      sent: both.sent,
      statuses: both.statuses,
      errors: both.errors,
      expectedP99Ms: percentile(latenciesOf(both, [200]), 99),
      shedP99Ms: percentile(latenciesOf(both, [503]), 99),
      seconds: both.seconds,
    };
    log(`${combined.name}: ${combined.throughput.toFixed(1)}/s statuses ${JSON.stringify(both.statuses)}`);
    return combined;
  } finally {
    await balancer.close();
    await second.stop();
  }
}
