/**
 * Load generators of the bench, both over loopback HTTP/1.1 keep-alive:
 *
 * - `closedLoop`: autocannon, `connections` requests in flight at all times
 *   (throughput at saturation).
 * - `openLoop`: requests at a constant rate whatever the answers, for "80 %
 *   of the limit" and "3x the limit". autocannon's own rate mode sends each
 *   second's quota in a burst at the start of the second, which measures the
 *   burst rather than the rate, so this one spaces requests evenly.
 *
 * Both record every response's status and latency, so latencies can be told
 * apart by status (accepted requests versus fast 503s).
 */
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';

/** One request as the bench sends it. */
export interface BenchRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** What one phase of load measured. */
export interface LoadResult {
  readonly seconds: number;
  /** Requests sent. */
  readonly sent: number;
  /** Responses received, by status. */
  readonly statuses: Record<string, number>;
  /** Requests that got no response: connection errors and timeouts. */
  readonly errors: number;
  /** Latencies in ms, by status. */
  readonly latencies: Record<string, number[]>;
}

/** The p-th percentile (0-100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

/** All latencies of a result, or those of some statuses. */
export function latenciesOf(result: LoadResult, statuses?: readonly number[]): number[] {
  return Object.entries(result.latencies)
    .filter(([status]) => statuses === undefined || statuses.includes(Number(status)))
    .flatMap(([, values]) => values);
}

function record(result: { statuses: Record<string, number>; latencies: Record<string, number[]> }, status: number, ms: number): void {
  const key = String(status);
  result.statuses[key] = (result.statuses[key] ?? 0) + 1;
  (result.latencies[key] ??= []).push(ms);
}

/**
 * `connections` keep-alive connections, each sending its next request as soon
 * as the previous one is answered, for `seconds` or until `amount` requests.
 * `next()` gives each request (tokens and bodies can change per request).
 */
export async function closedLoop(options: { port: number; connections: number; seconds: number; amount?: number; next: () => BenchRequest }): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const latencies: Record<string, number[]> = {};
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${options.port}`,
        connections: options.connections,
        duration: options.seconds,
        ...(options.amount === undefined ? {} : { amount: options.amount }),
        timeout: 10,
        requests: [
          {
            // Every request built afresh: a fresh token, user or body each time.
            setupRequest: (req) => {
              const next = options.next();
              return { ...req, method: next.method, path: next.path, headers: next.headers, ...(next.body === undefined ? {} : { body: next.body }) };
            },
          },
        ],
      },
      (error, done) => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(done);
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      record({ statuses, latencies }, statusCode, responseTime);
    });
  });
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    seconds: (performance.now() - started) / 1000,
    // autocannon stops at the deadline; requests still in flight then are neither answered nor lost.
    sent: answered + result.errors + result.timeouts,
    statuses,
    errors: result.errors + result.timeouts,
    latencies,
  };
}

/**
 * Requests at `rate` per second, evenly spaced, for `seconds`, whatever the
 * answers; then waits for every answer (or its timeout), so nothing is left
 * uncounted. With `measureFrom` (seconds), requests sent before then are
 * recorded in `onset` instead: the start of a sustained load, told apart
 * from what follows.
 */
export async function openLoop(options: { port: number; rate: number; seconds: number; timeoutMs: number; measureFrom?: number; next: () => BenchRequest }): Promise<LoadResult & { onset?: LoadResult }> {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const main = { statuses: {} as Record<string, number>, latencies: {} as Record<string, number[]>, errors: 0, sent: 0 };
  const early = { statuses: {} as Record<string, number>, latencies: {} as Record<string, number[]>, errors: 0, sent: 0 };
  const total = Math.round(options.rate * options.seconds);
  const onsetCount = Math.round(options.rate * (options.measureFrom ?? 0));
  const interval = 1000 / options.rate;
  const pending: Promise<void>[] = [];
  const fire = (req: BenchRequest, into: typeof main): Promise<void> =>
    new Promise<void>((resolve) => {
      into.sent += 1;
      const start = performance.now();
      const outgoing = request({ host: '127.0.0.1', port: options.port, method: req.method, path: req.path, headers: req.headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          record(into, res.statusCode ?? 0, performance.now() - start);
          resolve();
        });
      });
      outgoing.setTimeout(options.timeoutMs, () => outgoing.destroy(new Error('timeout')));
      outgoing.on('error', () => {
        into.errors += 1;
        resolve();
      });
      outgoing.end(req.body);
    });
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1);
    while (sent < due) {
      pending.push(fire(options.next(), sent < onsetCount ? early : main));
      sent += 1;
    }
    const wait = started + sent * interval - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(pending);
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  const measured = { seconds: seconds - (options.measureFrom ?? 0), sent: main.sent, statuses: main.statuses, errors: main.errors, latencies: main.latencies };
  return onsetCount > 0 ? { ...measured, onset: { seconds: options.measureFrom ?? 0, sent: early.sent, statuses: early.statuses, errors: early.errors, latencies: early.latencies } } : measured;
}

/**
 * `count` requests sent at once, each on a connection of its own (what a
 * login storm or an SPA release does); `seconds` is the drain time, from the
 * first sent to the last answered.
 */
export async function burst(options: { port: number; count: number; timeoutMs: number; next: () => BenchRequest }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const result = { statuses: {} as Record<string, number>, latencies: {} as Record<string, number[]> };
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.count }, () => {
      const req = options.next();
      return new Promise<void>((resolve) => {
        const start = performance.now();
        const outgoing = request({ host: '127.0.0.1', port: options.port, method: req.method, path: req.path, headers: req.headers, agent }, (res) => {
          res.resume();
          res.on('end', () => {
            record(result, res.statusCode ?? 0, performance.now() - start);
            resolve();
          });
        });
        outgoing.setTimeout(options.timeoutMs, () => outgoing.destroy(new Error('timeout')));
        outgoing.on('error', () => {
          errors += 1;
          resolve();
        });
        outgoing.end(req.body);
      });
    }),
  );
  agent.destroy();
  return { seconds: (performance.now() - started) / 1000, sent: options.count, statuses: result.statuses, errors, latencies: result.latencies };
}
