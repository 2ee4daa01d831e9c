/**
 * The service under load, as an operator runs it: the built CLI's `serve` in
 * a process of its own, read through its `/readyz` and `/metrics`, and an L4
 * balancer to put two of them behind one port.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../src/db/mongo-server';
import { log, ROOT } from './settings';

const BIN = join(ROOT, 'dist', 'cli', 'main.js');

/** A running `password-resources serve`. */
export interface Service {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    }).on('error', reject);
  });
}

/** The shipped CLI's `serve`, configured by the environment as an operator would. */
export async function startService(env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const state = { gone: false };
  void exited.then(() => (state.gone = true));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (state.gone) throw new Error(`the service exited before it was ready:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the service was not ready within 120 s:\n${output}`);
    const ready = await httpGet(port, '/readyz').catch(() => undefined);
    if (ready?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    pid: child.pid ?? 0,
    async stop() {
      if (!state.gone) child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) log(`the service exited with ${String(code)}:\n${output}`);
    },
  };
}

/** Peak resident memory of a process while `work` runs, from /proc (Linux); NaN elsewhere. */
export async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  const rss = (): number => {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match ? Number(match[1]) / 1024 : NaN;
    } catch {
      return NaN;
    }
  };
  let peak = rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 100);
  try {
    const result = await work();
    peak = Math.max(peak, rss());
    return { result, peakRssMb: peak };
  } finally {
    clearInterval(timer);
  }
}

/** The service's event loop delay p99 (ms) since the previous scrape: prom-client resets the histogram on each. */
export async function eventLoopP99(port: number): Promise<number> {
  const { body } = await httpGet(port, '/metrics');
  const line = body.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_p99_seconds '));
  return line === undefined ? NaN : Number(line.split(' ')[1]) * 1000;
}

/** The service's samples of one metric family, by their full series name. */
async function scrape(port: number): Promise<Map<string, number>> {
  const { body } = await httpGet(port, '/metrics');
  return new Map(
    body
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))] as const;
      }),
  );
}

/**
 * Wait until the service has no hash running or waiting: a closed loop that
 * stops at its deadline leaves requests in the service, which would otherwise
 * crowd the next phase's queue.
 */
export async function drained(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const metrics = await scrape(port);
    if (metrics.get('password_resources_hash_running') === 0 && metrics.get('password_resources_hash_queue_waiting') === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the service did not drain its hash queue within 30 s');
}

/** Mean durations (ms) from the service's histograms: hashes, queue waits and database operations, by label. */
export async function serviceTimings(port: number): Promise<Record<string, number>> {
  const metrics = await scrape(port);
  const out: Record<string, number> = {};
  for (const [series, sum] of metrics) {
    const match = /^password_resources_(hash_duration|hash_queue_wait|database_duration)_seconds_sum(\{.*\})$/.exec(series);
    if (!match) continue;
    const count = metrics.get(series.replace('_sum{', '_count{')) ?? 0;
    if (count > 0) out[`${match[1] ?? ''}${match[2] ?? ''}`] = (sum / count) * 1000;
  }
  return out;
}

/** A round-robin TCP balancer: each new connection goes to the next backend (an L4 load balancer in a few lines). */
export async function roundRobin(ports: readonly number[]): Promise<{ port: number; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const port = ports[next % ports.length] ?? 0;
    next += 1;
    const backend = connect(port, '127.0.0.1');
    for (const socket of [client, backend]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        backend.destroy();
      });
    }
    client.pipe(backend).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
