/** What a set of phases starts from: bcrypt's own limit, seeded users, their tokens. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { createPasswordHasher } from '../src/domain/hashing';
import type { HashScheme } from '../src/domain/hashing';
import { createMongooseUserStore } from '../src/store/mongoose/user-store';
import type { TestIssuer } from '../test/helpers/issuer';
import { CONCURRENCY, log, PASSWORD, REALM, SCHEME } from './settings';

/** The bench's scheme alone, in a process of its own with the threadpool `serve` would have. */
export async function bcryptLimit(seconds: number): Promise<HashLimit> {
  return hashLimit(SCHEME, CONCURRENCY, seconds);
}

/** What the hash alone does: checks per second at saturation, one check's time alone, and the CPU (all threads) each check took at saturation. */
export interface HashLimit {
  readonly checksPerSecond: number;
  readonly singleCheckMs: number;
  readonly cpuMsPerCheck: number;
}

/** One hash scheme alone, `concurrency` at once, in a process of its own with the threadpool `serve` would give it. */
export async function hashLimit(scheme: HashScheme, concurrency: number, seconds: number): Promise<HashLimit> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'hash-limit.ts'), JSON.stringify(scheme), String(concurrency), String(seconds)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: String(concurrency + 1) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`hash-limit exited with ${String(code)}`);
  return JSON.parse(out) as HashLimit;
}

/** Users straight into the database, in bulk: one pre-computed credential shared by all (a seed, not a login). */
export async function seed(uri: string, count: number): Promise<void> {
  const started = performance.now();
  const credential = await createPasswordHasher().hash(PASSWORD, SCHEME);
  const connection = await mongoose.createConnection(uri).asPromise();
  try {
    // A fresh database each run (BENCH_MONGODB_URI may point at a server that keeps it); the shipped
    // store creates the collection and its indexes, as the service will expect them.
    await connection.dropDatabase();
    await createMongooseUserStore(connection).init();
    const users = connection.collection('users');
    const createdAt = new Date();
    const batch = 5_000;
    for (let from = 0; from < count; from += batch) {
      const docs = Array.from({ length: Math.min(batch, count - from) }, (_, i) => ({
        realm: REALM,
        userId: `u${from + i}`,
        username: `user${from + i}`,
        enabled: true,
        credential: { algorithm: credential.algorithm, hash: credential.hash, createdAt },
        requiredActions: [],
        createdAt,
      }));
      await users.insertMany(docs, { ordered: false });
    }
  } finally {
    await connection.close();
  }
  log(`seeded ${count} users in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Tokens of users spread over the whole user range, so lookups touch all of the index. */
export async function tokensFor(issuer: TestIssuer, ids: readonly string[]): Promise<string[]> {
  return Promise.all(ids.map((sub) => issuer.sign({ sub }, { realm: REALM, expiresIn: 3_600 })));
}

/** Round-robin over a list. */
export function cycle<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => {
    const item = items[i % items.length];
    i += 1;
    if (item === undefined) throw new Error('empty list');
    return item;
  };
}
