/**
 * `npm run measure:forgot-password`: does forgot-password's timing tell whether
 * an account exists? Starts the service (as built) with a real database and a
 * real SMTP sink, then a separate client process asks for an existing and for
 * unknown addresses in random order, one at a time over one keep-alive
 * connection, and compares the latencies (medians, and a Mann-Whitney U test).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { request, Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { createApp } from '../src/app';
import { startMongoServer } from '../src/db/mongo-server';
import { createPasswordResources } from '../src/index';

const PAIRS = 400;
const PATH = '/realms/alpha/password-resources/forgot-password';

function post(agent: Agent, port: number, email: string): Promise<{ ms: number; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ email });
    const started = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path: PATH, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode ?? 0, body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN;
}

/** z of the Mann-Whitney U test (normal approximation); |z| < 1.96: no difference detectable at 5 %. */
function mannWhitneyZ(a: readonly number[], b: readonly number[]): number {
  const ranked = [...a.map((v) => ({ v, first: true })), ...b.map((v) => ({ v, first: false }))].sort((x, y) => x.v - y.v);
  const rankSum = ranked.reduce((sum, item, i) => (item.first ? sum + i + 1 : sum), 0);
  const u = rankSum - (a.length * (a.length + 1)) / 2;
  return (u - (a.length * b.length) / 2) / Math.sqrt((a.length * b.length * (a.length + b.length + 1)) / 12);
}

/** The client: runs in its own process, so the server's work after an answer cannot slow the measurement. */
async function client(port: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 40; i++) await post(agent, port, i % 2 === 0 ? 'known@example.com' : `warm-${i}@example.com`);
  for (let i = 0; i < PAIRS; i++) {
    const order = Math.random() < 0.5 ? ['known', 'unknown'] : ['unknown', 'known'];
    for (const which of order) {
      await pause(20);
      const res = await post(agent, port, which === 'known' ? 'known@example.com' : `nobody-${i}@example.com`);
      if (res.status !== 202) throw new Error(`unexpected ${res.status}: ${res.body}`);
      (which === 'known' ? known : unknown).push(res.ms);
    }
  }
  agent.destroy();
  const line = (name: string, values: number[]): string => `${name}: p50 ${quantile(values, 0.5).toFixed(2)} ms, p90 ${quantile(values, 0.9).toFixed(2)} ms`;
  process.stdout.write(
    `${line('existing account', known)}\n${line('unknown address ', unknown)}\n` +
      `median ratio ${(quantile(known, 0.5) / quantile(unknown, 0.5)).toFixed(3)}, Mann-Whitney z = ${mannWhitneyZ(known, unknown).toFixed(2)} over ${PAIRS} pairs ` +
      '(|z| < 1.96: no difference detectable at 5 %)\n',
  );
}

async function server(): Promise<void> {
  const db = await startMongoServer();
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const resources = createPasswordResources({
    mongodbUri: db.uri.replace('/?', '/forgot-password-timing?'),
    publicUrl: 'https://accounts.example',
    bcryptCost: 10,
    logger: pino({ level: 'silent' }),
    realms: {
      alpha: {
        issuer: 'https://idp.example/realms/alpha',
        smtp: { host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port, from: 'no-reply@example.com' },
        recovery: { perAddress: { limit: 100_000 }, perIp: { limit: 100_000 } },
      },
    },
  });
  await resources.ready();
  await resources.accounts.createUser({ realm: 'alpha', username: 'known', email: 'known@example.com', password: 'a known password' });
  const http = createServer(createApp(resources, pino({ level: 'silent' })));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, __filename, 'client', String(port)], { encoding: 'utf8' });
    process.stdout.write(stdout);
  } finally {
    http.close();
    await resources.close();
    smtp.close();
    await db.stop();
  }
}

const [mode, port] = process.argv.slice(2);
(mode === 'client' ? client(Number(port)) : server()).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
