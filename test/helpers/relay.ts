import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 to a real server: closed, whoever talks through it
 * finds that server down (connection refused); opened again on the same
 * port, it is back.
 */
export class TcpRelay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  private constructor(
    readonly target: URL,
    readonly port: number,
  ) {}

  /** A relay on `port` to the host and port of `target`, open. */
  static async open(target: string, port: number): Promise<TcpRelay> {
    const relay = new TcpRelay(new URL(target), port);
    await relay.reopen();
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async reopen(): Promise<void> {
    const server = createServer((socket) => {
      const upstream = createConnection(Number(this.target.port), this.target.hostname);
      for (const end of [socket, upstream]) {
        this.#sockets.add(end);
        end.on('close', () => this.#sockets.delete(end));
        end.on('error', () => undefined);
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }

  /** Refuse connections, and cut the ones open. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
