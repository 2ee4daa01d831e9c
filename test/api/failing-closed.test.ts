import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort, pythonServerPath, rustServerPath } from '../../src/db/mongo-server';
import { call, expectError } from '../helpers/api';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const RESET = '/realms/alpha/password-resources/reset-password';
const TIMEOUT_MS = 1_000;

/** A database server of this file's own (same binary as the run's), to pause, stop and start again on its data. */
class OwnDatabase {
  #child: ChildProcess | undefined;
  private constructor(readonly dir: string, readonly port: number) {}

  static async start(): Promise<OwnDatabase> {
    const db = new OwnDatabase(await mkdtemp(join(tmpdir(), 'failing-closed-')), await freePort());
    await db.start();
    return db;
  }

  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}/failing_closed?directConnection=true`;
  }

  async start(): Promise<void> {
    const rust = rustServerPath();
    const binary = existsSync(rust) ? rust : pythonServerPath();
    // --sync-on-commit: an acknowledged write survives SIGKILL, so what a crash leaves is down to our writes alone.
    const args = ['--host', '127.0.0.1', '--port', String(this.port), '--storage-path', join(this.dir, 'data'), '--sync-on-commit'];
    this.#child = spawn(binary, args, { cwd: this.dir, stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (Date.now() > deadline) throw new Error('database did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

let db: OwnDatabase;
let service: TestService;
let alice: { id: string; token: string };

beforeAll(async () => {
  db = await OwnDatabase.start();
  service = await startTestService('failing-closed', { mongodbUri: db.uri, databaseTimeoutMs: TIMEOUT_MS });
  alice = await service.createUser('alice', 'alice long password');
});
afterAll(async () => {
  await service.close();
  await db.remove();
});

async function timed<T>(work: Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work;
  return { result, ms: Date.now() - started };
}

describe('failing closed when MongoDB goes away', () => {
  it('answers 503 with Retry-After within a bounded time while the database hangs, and recovers by itself', async () => {
    db.pause();
    try {
      const [validate, reset] = await Promise.all([
        timed(call(service.app, 'post', VALIDATE, { token: alice.token, body: { password: 'alice long password' } })),
        timed(call(service.app, 'post', RESET, { token: alice.token, body: { currentPassword: 'alice long password', newPassword: 'alice newer password' } })),
      ]);
      for (const { result, ms } of [validate, reset]) {
        expectError(result, 503, 'temporarily_unavailable');
        expect(ms).toBeLessThan(TIMEOUT_MS * 4);
      }
    } finally {
      db.resume();
    }
    const back = await call(service.app, 'post', VALIDATE, { token: alice.token, body: { password: 'alice long password' } });
    expect(back.body).toEqual({ valid: true });
  });

  it('answers 503 while the database is stopped, never 200 or 500, and serves again once it is back', async () => {
    await db.stop();
    const { result, ms } = await timed(call(service.app, 'post', VALIDATE, { token: alice.token, body: { password: 'alice long password' } }));
    expectError(result, 503, 'temporarily_unavailable');
    expect(ms).toBeLessThan(TIMEOUT_MS * 4);
    expect((await call(service.app, 'get', '/readyz', {})).status).toBe(503);
    await db.start();
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await call(service.app, 'post', VALIDATE, { token: alice.token, body: { password: 'alice long password' } })).status;
      if (status !== 200) {
        expect(status).toBe(503);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    expect(status).toBe(200);
  });

  it('leaves the old or the new password after a change cut off by the outage, never neither', async () => {
    const { id, token } = await service.createUser('bruno', 'bruno old password');
    const change = call(service.app, 'post', RESET, { token, body: { currentPassword: 'bruno old password', newPassword: 'bruno new password' } });
    // Cut the database while the change is hashing or writing.
    await new Promise((resolve) => setTimeout(resolve, 40));
    await db.stop();
    const res = await change;
    expect([204, 503]).toContain(res.status);
    await db.start();
    const fresh = await service.issuer.signAfterChange(id);
    const valid: string[] = [];
    for (const password of ['bruno old password', 'bruno new password']) {
      let body: unknown;
      for (let attempt = 0; attempt < 50; attempt++) {
        const check = await call(service.app, 'post', VALIDATE, { token: fresh, body: { password } });
        if (check.status === 200) {
          body = check.body;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if ((body as { valid?: boolean } | undefined)?.valid) valid.push(password);
    }
    expect(valid).toHaveLength(1);
    if (res.status === 204) expect(valid).toEqual(['bruno new password']);
  });
});
