import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JWK, JWTPayload, KeyLike } from 'jose';

interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: KeyLike;
  readonly publicJwk: JWK;
}

/** How the issuer answers key set requests. */
export type IssuerMode = 'up' | 'error' | 'hang';

/** Options of one token. */
export interface SignOptions {
  readonly realm?: string;
  readonly kid?: string;
  /** Extra or overriding protected header parameters. */
  readonly header?: Record<string, unknown>;
  /** Seconds from now; negative for an expired token. Default 300. */
  readonly expiresIn?: number;
  readonly omitExp?: boolean;
}

/**
 * A test identity provider: real key pairs, a JWKS served over HTTP on
 * 127.0.0.1 at Keycloak's path for every realm, tokens signed with jose. It can
 * rotate keys, fail (HTTP 500), hang, or stop.
 */
export class TestIssuer {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #keys: SigningKey[] = [];
  mode: IssuerMode = 'up';
  /** How many times the key set was requested. */
  jwksRequests = 0;
  baseUrl = '';

  static async start(): Promise<TestIssuer> {
    const issuer = new TestIssuer();
    await issuer.addKey('RS256');
    await issuer.listen();
    return issuer;
  }

  issuerOf(realm: string): string {
    return `${this.baseUrl}/realms/${realm}`;
  }

  /** Add a signing key; the newest key signs unless a `kid` is given. */
  async addKey(alg: string, kid = `key-${this.#keys.length + 1}-${alg}`): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.#keys.push({ kid, alg, privateKey, publicJwk });
    return kid;
  }

  /** Stop publishing a key (its tokens can no longer be verified after a refetch). */
  removeKey(kid: string): void {
    this.#keys = this.#keys.filter((key) => key.kid !== kid);
  }

  /** Publish an extra JWK as is (e.g. an encryption key that must be ignored). */
  extraJwks: JWK[] = [];

  get currentKid(): string {
    const key = this.#keys.at(-1);
    if (!key) throw new Error('no keys');
    return key.kid;
  }

  /** A signed access token for `sub` in `realm` (default `alpha`). */
  async sign(claims: JWTPayload & { sub?: string }, options: SignOptions = {}): Promise<string> {
    const key = options.kid === undefined ? this.#keys.at(-1) : this.#keys.find((k) => k.kid === options.kid);
    if (!key) throw new Error(`no key ${options.kid ?? ''}`);
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ iat: now, typ: 'Bearer', ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
      .setIssuer(this.issuerOf(options.realm ?? 'alpha'));
    if (!options.omitExp) jwt.setExpirationTime(now + (options.expiresIn ?? 300));
    return jwt.sign(key.privateKey);
  }

  /**
   * A token issued in the next second: certainly after any password change
   * made so far, which refuses tokens of its own second or earlier.
   */
  async signAfterChange(sub: string, options: SignOptions = {}): Promise<string> {
    return this.sign({ sub, iat: Math.floor(Date.now() / 1000) + 1 }, options);
  }

  /** The private key of the current key, for crafting attacks. */
  get currentPrivateKey(): KeyLike {
    const key = this.#keys.at(-1);
    if (!key) throw new Error('no keys');
    return key.privateKey;
  }

  get currentPublicJwk(): JWK {
    const key = this.#keys.at(-1);
    if (!key) throw new Error('no keys');
    return key.publicJwk;
  }

  #respond(res: ServerResponse): void {
    this.jwksRequests += 1;
    if (this.mode === 'hang') return;
    if (this.mode === 'error') {
      res.writeHead(500).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [...this.#keys.map((k) => k.publicJwk), ...this.extraJwks] }));
  }

  /**
   * Also answer `GET /realms/<realm>/dev-token?sub=<id>` with a fresh token
   * (for `npm run dev:idp` on loopback; never in tests of token checks).
   * Each `role=<name>` adds a client role of `realm-management`, where
   * Keycloak puts the admin API's roles (`role=manage-users`).
   */
  mintOverHttp = false;

  async listen(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const mint = /^\/realms\/([^/]+)\/dev-token$/.exec(url.pathname);
      if (/^\/realms\/[^/]+\/protocol\/openid-connect\/certs$/.test(url.pathname)) this.#respond(res);
      else if (this.mintOverHttp && mint?.[1] && url.searchParams.get('sub')) {
        const roles = url.searchParams.getAll('role');
        const claims = roles.length > 0 ? { resource_access: { 'realm-management': { roles } } } : {};
        this.sign({ sub: url.searchParams.get('sub') ?? '', ...claims }, { realm: mint[1] }).then(
          (token) => res.writeHead(200, { 'content-type': 'text/plain' }).end(token),
          () => res.writeHead(500).end(),
        );
      } else res.writeHead(404).end();
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.#server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Stop listening: key set requests are refused. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}
