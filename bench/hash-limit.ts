/**
 * The limit: password checks alone, through the service's own async hasher on
 * libuv's threadpool sized as `serve` sizes it, `concurrency` at a time, in
 * the scheme given as JSON. Run as a child process of a bench so nothing else
 * shares its event loop or threadpool. Prints one JSON line.
 *
 * Usage: node -r ts-node/register/transpile-only bench/hash-limit.ts '<scheme json>' <concurrency> <seconds>
 * e.g.   ... bench/hash-limit.ts '{"algorithm":"argon2","iterations":5,"memory":7168,"parallelism":1}' 2 10
 */
import { createPasswordHasher } from '../src/domain/hashing';
import type { HashScheme } from '../src/domain/hashing';

async function main(): Promise<void> {
  const [schemeJson = '', ...numbers] = process.argv.slice(2);
  const [concurrency, seconds] = numbers.map(Number);
  if (!schemeJson || !concurrency || !seconds) throw new Error("usage: hash-limit '<scheme json>' <concurrency> <seconds>");
  const scheme = JSON.parse(schemeJson) as HashScheme;
  const hasher = createPasswordHasher();
  const password = 'correct horse battery staple';
  const credential = await hasher.hash(password, scheme);

  // One check at a time: the time of one check with nothing else running.
  const single: number[] = [];
  for (let i = 0; i < 15; i++) {
    const start = performance.now();
    if (!(await hasher.verify(password, credential))) throw new Error('password check failed');
    single.push(performance.now() - start);
  }
  single.sort((a, b) => a - b);

  // `concurrency` checks in flight for `seconds`: checks per second.
  let checks = 0;
  const cpuBefore = process.cpuUsage();
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
  // CPU of the whole process (every thread) per check: what one check costs the cores, whatever else shares them.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerCheck = (cpu.user + cpu.system) / 1000 / checks;
  process.stdout.write(
    `${JSON.stringify({ scheme, concurrency, threadpool: process.env.UV_THREADPOOL_SIZE, checks, seconds: elapsed, checksPerSecond: checks / elapsed, singleCheckMs: single[Math.floor(single.length / 2)], cpuMsPerCheck })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`hash-limit: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
