import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One answer of the service that went through the gateway, for the contract check. */
export interface ServiceAnswer {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** Keycloak's OpenID Connect endpoints (token, certs, ...): the only paths the gateway sends to Keycloak. */
const KEYCLOAK_PATH = /^\/realms\/[^/]+\/protocol\/openid-connect\//;
const SERVICE_PATH = /^\/admin\/realms\//;

/**
 * A gateway on 127.0.0.1 that gives Keycloak's tools one base URL, as a
 * reverse proxy in front of both would: `/realms/*\/protocol/openid-connect/*`
 * to Keycloak, `/admin/realms/*` to the service, anything else 404. The
 * upstream's own host goes in `Host`, so Keycloak issues tokens under its own
 * issuer. It keeps the service's answers, and every path it routed.
 */
export class ToolGateway {
  readonly answers: ServiceAnswer[] = [];
  readonly routed: string[] = [];
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  url = '';

  private constructor(
    readonly keycloakUrl: string,
    readonly serviceUrl: string,
  ) {}

  static async start(keycloakUrl: string, serviceUrl: string): Promise<ToolGateway> {
    const gateway = new ToolGateway(keycloakUrl, serviceUrl);
    await gateway.#listen();
    return gateway;
  }

  async #listen(): Promise<void> {
    const server = createServer((req, res) => {
      const path = req.url ?? '/';
      const upstream = KEYCLOAK_PATH.test(path) ? this.keycloakUrl : SERVICE_PATH.test(path) ? this.serviceUrl : undefined;
      this.routed.push(`${req.method ?? ''} ${path.split('?')[0] ?? path} -> ${upstream === this.keycloakUrl ? 'keycloak' : upstream === undefined ? '404' : 'service'}`);
      if (upstream === undefined) {
        res.writeHead(404).end();
        return;
      }
      const target = new URL(path, upstream);
      const forward = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          if (upstream === this.serviceUrl) {
            this.answers.push({ method: req.method ?? '', path, status: answer.statusCode ?? 0, headers: answer.headers, text: body.toString('utf8') });
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
        });
      });
      forward.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(forward);
    });
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}
