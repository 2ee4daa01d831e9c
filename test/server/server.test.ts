import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config/env';
import { startServer } from '../../src/server';
import type { RunningServer } from '../../src/server';
import { startMongoServer } from '../../src/db/mongo-server';
import type { MongoServer } from '../../src/db/mongo-server';
import { holdReceived } from '../helpers/contract-hook';
import { testDatabaseUri } from '../helpers/db';
import { TestIssuer } from '../helpers/issuer';
import { spawnCli, stopSpawned } from '../helpers/spawn';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await stopSpawned();
  await issuer.stop();
});

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function start(env: Record<string, string>, logger: pino.Logger): Promise<RunningServer> {
  return startServer(loadConfig({ REALMS: 'alpha', OIDC_ISSUER_BASE_URL: issuer.baseUrl, BCRYPT_COST: '10', PORT: '0', ...env }), logger);
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Send the headers and half the body now; `finish()` sends the rest. */
function slowRequest(port: number, path: string, headers: Record<string, string>, body: string): { finish(): void; response: Promise<RawResponse> } {
  const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
  const response = new Promise<RawResponse>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        holdReceived('POST', `http://127.0.0.1:${port}${path}`, { status: res.statusCode ?? 0, headers: res.headers, text });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on('error', reject);
  });
  const half = Math.floor(body.length / 2);
  req.write(body.slice(0, half));
  return { finish: () => req.end(body.slice(half)), response };
}

async function get(port: number, path: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        holdReceived('GET', `http://127.0.0.1:${port}${path}`, { status: res.statusCode ?? 0, headers: res.headers, text });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    })
      .on('error', reject)
      .end();
  });
}

describe('the standalone server', () => {
  it('answers /healthz and /readyz, with helmet headers and a request id', async () => {
    const { logger } = capturingLogger();
    const server = await start({ MONGODB_URI: testDatabaseUri('server-probes') }, logger);
    try {
      const health = await get(server.port, '/healthz');
      expect(health).toMatchObject({ status: 200, body: '{"status":"ok"}' });
      expect(health.headers['x-content-type-options']).toBe('nosniff');
      expect(health.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(health.headers['x-powered-by']).toBeUndefined();
      expect(await get(server.port, '/readyz')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
      const unknown = await get(server.port, '/nowhere');
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.body)).toEqual({ error: 'not_found', error_description: 'No route for GET /nowhere.' });
    } finally {
      await server.close();
    }
  });

  it('finishes an in-flight request on shutdown, then refuses new connections', async () => {
    const uri = testDatabaseUri('server-shutdown');
    const { logger } = capturingLogger();
    const server = await start({ MONGODB_URI: uri }, logger);
    const token = await issuer.sign({ sub: 'nobody' });
    const inFlight = slowRequest(
      server.port,
      '/realms/alpha/password-resources/validate-password',
      { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      JSON.stringify({ password: 'whatever it may be' }),
    );
    // Give the server time to accept the request before shutdown starts.
    await new Promise((resolve) => setTimeout(resolve, 200));
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closed).toBe(false);
    inFlight.finish();
    const response = await inFlight.response;
    expect(response.status).toBe(401); // the request was served to the end (an unknown subject)
    expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_token' });
    await closing;
    expect(server.server.listening).toBe(false);
    // The freed port is ephemeral: another test worker may bind it at once, so a
    // connection may be hung up by that process instead of refused.
    await expect(get(server.port, '/healthz')).rejects.toThrow(/ECONNREFUSED|ECONNRESET|socket hang up/);
  });

  it('answers /readyz 503 while its database is down', async () => {
    const database: MongoServer = await startMongoServer({ env: { ...process.env, MONGODB_URI: '' } });
    const { logger } = capturingLogger();
    const server = await start({ MONGODB_URI: `${database.uri}&serverSelectionTimeoutMS=1000` }, logger);
    try {
      expect((await get(server.port, '/readyz')).status).toBe(200);
      await database.stop();
      const down = await get(server.port, '/readyz');
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(down.body)).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await server.close();
    }
  });

  it('logs requests without passwords, tokens or query strings', async () => {
    const { logger, lines } = capturingLogger();
    const server = await start({ MONGODB_URI: testDatabaseUri('server-logs') }, logger);
    const token = await issuer.sign({ sub: 'nobody' });
    const secret = 'a very secret password';
    try {
      const req = slowRequest(
        server.port,
        '/realms/alpha/password-resources/validate-password?access_token=query-secret',
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        JSON.stringify({ password: secret }),
      );
      req.finish();
      await req.response;
    } finally {
      await server.close();
    }
    const log = lines.join('');
    expect(log).toContain('/realms/alpha/password-resources/validate-password');
    for (const leak of [secret, token, token.split('.')[2] ?? token, 'query-secret', 'authorization']) expect(log).not.toContain(leak);
  });
});

/** The serve command, started without MONGODB_URI, once it says it listens. */
async function startServe(): Promise<{ child: ReturnType<typeof spawnCli>; output: () => string; listening: { port: number; databaseUri: string }; exited: Promise<number | null> }> {
  const child = spawnCli(['serve'], { REALMS: 'alpha', OIDC_ISSUER_BASE_URL: issuer.baseUrl, PORT: '0', BCRYPT_COST: '10' });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', resolve);
  });
  // Seconds when idle; up to a minute on a loaded two-core machine with the Python build.
  const deadline = Date.now() + 60_000;
  while (!output.includes('password-resources listening') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const line = output.split('\n').find((candidate) => candidate.includes('password-resources listening'));
  if (!line) throw new Error(`serve did not start: ${output}`);
  return { child, output: () => output, listening: JSON.parse(line) as { port: number; databaseUri: string }, exited };
}

/** The database server listening on `port` (any build: its command line has `--port port` and `--storage-path`), from /proc. */
function serverProcess(port: string): { pid: number; storage: string } | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const storage = args.includes('--storage-path') ? args[args.indexOf('--storage-path') + 1] : undefined;
    // The watchdog shell has the same arguments after its script: the server is the one not running /bin/sh.
    if (args[0] !== '/bin/sh' && args.includes('--port') && args[args.indexOf('--port') + 1] === port && storage !== undefined) return { pid: Number(entry), storage };
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start (the serve command)', () => {
  it('starts on an embedded database without MONGODB_URI, says so, and stops cleanly on SIGTERM', async () => {
    const serve = await startServe();
    expect(serve.output()).toMatch(/MONGODB_URI is unset: started an ephemeral (SecantusDB|mongod)/);
    expect((await get(serve.listening.port, '/readyz')).status).toBe(200);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(serve.output()).toContain('password-resources stopped');
  }, 90_000);

  it('leaves no embedded database server behind when it is killed outright', async () => {
    const serve = await startServe();
    const databasePort = new URL(serve.listening.databaseUri).port;
    const database = serverProcess(databasePort);
    if (database === undefined) throw new Error(`no database server process on port ${databasePort}`);
    expect(alive(database.pid)).toBe(true);
    expect(existsSync(database.storage)).toBe(true);
    serve.child.kill('SIGKILL'); // no handler runs: only the watchdog can stop the server
    await serve.exited;
    const deadline = Date.now() + 10_000;
    while ((alive(database.pid) || existsSync(database.storage)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(database.pid)).toBe(false);
    // Its data went with it.
    expect(existsSync(database.storage)).toBe(false);
  }, 90_000);

  it('refuses a bad setting with one line naming it, and a non-zero exit', async () => {
    const child = spawnCli(['serve'], { REALMS: 'alpha', OIDC_ISSUER_BASE_URL: issuer.baseUrl, BCRYPT_COST: '8' });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
    });
    expect(code).toBe(2);
    expect(stderr).toBe('password-resources: BCRYPT_COST: must be an integer from 10 to 15, got "8"\n');
  });
});
