/**
 * `npm run bench`: the service's cost measured against bcrypt's, side by side
 * in one run on the same cores at the same bcrypt cost.
 *
 * Starts a database server (src/db/mongo-server), a test IdP serving a real
 * JWKS over HTTP, and the service as shipped (the built CLI's `serve`, a
 * process of its own, configured by the environment); seeds users straight
 * into the database; measures bcrypt alone in a child process; then drives
 * load from this process over loopback and prints a table with the ratios and
 * their targets. JSON goes to bench/results/.
 *
 * The scenarios are in bench/scenarios/, in the order `runSet` runs them.
 *
 * Environment: BENCH_BCRYPT_COST (default 10), BENCH_PHASE_SECONDS (default 5).
 */
import { cpus, totalmem } from 'node:os';
import { startMongoServer } from '../src/db/mongo-server';
import { TestIssuer } from '../test/helpers/issuer';
import { seed } from './fixtures';
import { report } from './report';
import { openLoops } from './scenarios/open-loop';
import { rejections } from './scenarios/rejections';
import { validateRight, warmUp, writes } from './scenarios/saturation';
import { prepareSet } from './scenarios/set';
import type { SetResult } from './scenarios/set';
import { twoInstances } from './scenarios/two-instances';
import { serviceTimings, startService } from './service';
import { CONCURRENCY, CORES, COST, HASH_QUEUE, log, PHASE_SECONDS, REALM } from './settings';

/** Every phase on one database of `users` users, with one service (and a second, for `withSecondInstance`). */
async function runSet(issuer: TestIssuer, databaseUri: string, users: number, withSecondInstance: boolean): Promise<SetResult> {
  const uri = new URL(databaseUri);
  uri.pathname = `/bench_${users}`;
  await seed(uri.toString(), users);
  const env = { MONGODB_URI: uri.toString(), REALMS: REALM, OIDC_ISSUER_BASE_URL: issuer.baseUrl, HASH_ALGORITHM: 'bcrypt', BCRYPT_COST: String(COST) };
  const service = await startService(env);
  try {
    const set = await prepareSet(issuer, service, users);
    await warmUp(set);
    const limit = await validateRight(set);
    await rejections(set);
    await openLoops(set, limit.checksPerSecond);
    const combined = withSecondInstance ? await twoInstances(set, env) : undefined;
    await writes(set);
    const timings = await serviceTimings(service.port);
    log(`service mean timings (ms) with ${users} users: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    return { limit, phases: set.phases, ...(combined ? { combined } : {}) };
  } finally {
    await service.stop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = { cores: CORES, cpu: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform };
  log(`machine: ${JSON.stringify(machine)}; bcrypt cost ${COST}; hash queue ${CONCURRENCY} running, budget ${HASH_QUEUE.budgetMs} ms, interval ${HASH_QUEUE.intervalMs} ms; phases ${PHASE_SECONDS} s`);
  const database = await startMongoServer({ env: { ...process.env, MONGODB_URI: process.env.BENCH_MONGODB_URI ?? '' }, log });
  const issuer = await TestIssuer.start();
  try {
    const small = await runSet(issuer, database.uri, 1_000, true);
    const large = await runSet(issuer, database.uri, 100_000, false);
    report({ machine, database: database.kind, small, large, seconds: (performance.now() - started) / 1000 });
  } finally {
    await issuer.stop();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
