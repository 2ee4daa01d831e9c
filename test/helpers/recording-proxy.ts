import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { holdReceived } from './contract-hook';

/** A proxy in front of the service, for clients outside the test's process. */
export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: give this to the client instead of the service's address. */
  readonly base: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A reverse proxy on 127.0.0.1 and a free port in front of `target` (the
 * service), for clients the test runs in a shell (curl in README's
 * walk-through, Keycloak's admin scripts): every answer is passed on byte for
 * byte, header case included, and held against `openapi.yaml` like the
 * answers supertest and fetch receive (contract-hook.ts). While the service is
 * not up yet, it answers `502`.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.rawHeaders },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          holdReceived(req.method ?? 'GET', `${target}${req.url ?? '/'}`, { status: answer.statusCode ?? 0, headers: answer.headers, text: body.toString('utf8') });
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders).end(body);
        });
      },
    );
    forward.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
