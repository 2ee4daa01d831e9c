/** One measured phase: load on the service, with its goodput, latencies, event loop delay and memory. */
import { latenciesOf, percentile } from './load';
import type { LoadResult } from './load';
import { drained, eventLoopP99, withPeakRss } from './service';
import type { Service } from './service';
import { log } from './settings';

/** One measured phase. */
export interface Phase {
  readonly name: string;
  readonly users: number;
  readonly expected: readonly number[];
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly eventLoopP99Ms: number;
  readonly peakRssMb: number;
  readonly sent: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  /** Latency p99 of the expected statuses only (e.g. accepted requests under overload). */
  readonly expectedP99Ms: number;
  /** Latency p99 of 503s, when there are any. */
  readonly shedP99Ms: number;
  /** How long it took: for a burst, its drain time. */
  readonly seconds: number;
}

/** Run `load` on a drained service and measure it; only `expected` statuses count as goodput. */
export async function phase(service: Service, name: string, users: number, expected: readonly number[], load: () => Promise<LoadResult>): Promise<Phase> {
  return (await phases(service, users, expected, load, (result) => [[name, result]]))[0] as Phase;
}

/** Run one load and measure it as one or more phases (the onset of an overload apart from what follows). */
export async function phases<R extends LoadResult>(
  service: Service,
  users: number,
  expected: readonly number[],
  load: () => Promise<R>,
  split: (result: R) => [string, LoadResult][],
): Promise<Phase[]> {
  await drained(service.port);
  await eventLoopP99(service.port); // resets the delay histogram
  const { result: whole, peakRssMb } = await withPeakRss(service.pid, load);
  const eventLoopP99Ms = await eventLoopP99(service.port);
  return split(whole).map(([name, result]) => summarize(name, users, expected, result, eventLoopP99Ms, peakRssMb));
}

function summarize(name: string, users: number, expected: readonly number[], result: LoadResult, eventLoopP99Ms: number, peakRssMb: number): Phase {
  const good = latenciesOf(result, expected);
  const measured: Phase = {
    name,
    users,
    expected,
    // Goodput: answers of the kind the phase is about (a 503 under overload is not a validation).
    throughput: good.length / result.seconds,
    p50Ms: percentile(good, 50),
    p99Ms: percentile(good, 99),
    eventLoopP99Ms,
    peakRssMb,
    sent: result.sent,
    statuses: result.statuses,
    errors: result.errors,
    expectedP99Ms: percentile(good, 99),
    shedP99Ms: percentile(latenciesOf(result, [503]), 99),
    seconds: result.seconds,
  };
  const unexpected = Object.entries(result.statuses).filter(([status]) => !expected.includes(Number(status)) && !(name.startsWith('overload') && status === '503'));
  log(
    `${name} (${users} users): ${measured.throughput.toFixed(1)}/s p50 ${measured.p50Ms.toFixed(1)} ms p99 ${measured.p99Ms.toFixed(1)} ms ` +
      `503 p99 ${measured.shedP99Ms.toFixed(1)} ms loop p99 ${eventLoopP99Ms.toFixed(1)} ms ${result.seconds.toFixed(2)} s rss ${peakRssMb.toFixed(0)} MB statuses ${JSON.stringify(result.statuses)} errors ${result.errors}` +
      (unexpected.length > 0 ? ` UNEXPECTED ${JSON.stringify(unexpected)}` : ''),
  );
  return measured;
}
