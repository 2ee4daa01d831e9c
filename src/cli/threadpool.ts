/**
 * Imported first by the CLI, before anything can use libuv's threadpool: libuv
 * reads UV_THREADPOOL_SIZE once, when the pool starts, and its default of 4
 * would otherwise cap how many bcrypt hashes run at once on a larger machine
 * (hashes beyond it wait inside libuv, outside the service's bounded queue).
 */
import { availableParallelism } from 'node:os';

/**
 * One thread per hashing slot (`HASH_CONCURRENCY`, default the cores), plus
 * one so that file and DNS work never waits behind a hash. A value the
 * operator set is kept.
 */
export function threadpoolSize(env: NodeJS.ProcessEnv): number {
  const given = env.HASH_CONCURRENCY?.trim() ?? '';
  const concurrency = /^\d+$/.test(given) && Number(given) >= 1 ? Number(given) : availableParallelism();
  return concurrency + 1;
}

process.env.UV_THREADPOOL_SIZE ??= String(threadpoolSize(process.env));
