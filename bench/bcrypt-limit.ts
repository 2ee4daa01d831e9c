/**
 * The limit: bcrypt checks alone, through the service's own async hasher on libuv's threadpool sized as `serve` sizes it,
 * `concurrency` at a time. Run as a child process of the bench so nothing
 * else shares its event loop or threadpool. Prints one JSON line.
 *
 * Usage: node -r ts-node/register/transpile-only bench/bcrypt-limit.ts <cost> <concurrency> <seconds>
 */
import { createBcryptHasher } from '../src/domain/hashing';

async function main(): Promise<void> {
  const [cost, concurrency, seconds] = process.argv.slice(2).map(Number);
  if (!cost || !concurrency || !seconds) throw new Error('usage: bcrypt-limit <cost> <concurrency> <seconds>');
  const hasher = createBcryptHasher({ cost });
  const password = 'correct horse battery staple';
  const credential = await hasher.hash(password);

  // One check at a time: the time of one bcrypt check on an idle machine.
  const single: number[] = [];
  for (let i = 0; i < 15; i++) {
    const start = performance.now();
    if (!(await hasher.verify(password, credential))) throw new Error('bcrypt check failed');
    single.push(performance.now() - start);
  }
  single.sort((a, b) => a - b);

  // `concurrency` checks in flight for `seconds`: checks per second.
  let checks = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await hasher.verify(password, credential);
        checks += 1;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  process.stdout.write(
    `${JSON.stringify({ cost, concurrency, threadpool: process.env.UV_THREADPOOL_SIZE, checks, seconds: elapsed, checksPerSecond: checks / elapsed, singleCheckMs: single[Math.floor(single.length / 2)] })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bcrypt-limit: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
