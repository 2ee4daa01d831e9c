/**
 * The account page's build and a small server for it: the built files, the
 * page's `/config.json`, and a strict CSP (scripts and styles of its own
 * origin only, calls to Keycloak and the service only, no frames).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';

/** What the page is told at run time (examples/spa-account/src/config.ts reads it). */
export interface SpaConfig {
  readonly authority: string;
  readonly clientId: string;
  readonly service: string;
  readonly realm: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Build the page with Vite into `outDir` (default `examples/spa-account/dist`). */
export async function buildSpa(outDir = join(__dirname, 'dist')): Promise<string> {
  // Vite's own command line (its package exports no bin path: found beside its package.json).
  const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--config', join(__dirname, 'vite.config.mjs'), '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: __dirname });
  return outDir;
}

/** The page's Content-Security-Policy: nothing inline, nothing from elsewhere but the two APIs it calls. */
export function contentSecurityPolicy(config: SpaConfig): string {
  const apis = [new URL(config.authority).origin, new URL(config.service).origin];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ${[...new Set(apis)].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** A running page server. */
export interface SpaServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serve the built page from `root` on 127.0.0.1 (`port` 0: a free one). */
export async function startSpaServer(root: string, config: SpaConfig, port = 0): Promise<SpaServer> {
  const headers = { 'Content-Security-Policy': contentSecurityPolicy(config), 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/config.json') {
      res.writeHead(200, { ...headers, 'Content-Type': TYPES['.json'] }).end(JSON.stringify(config));
      return;
    }
    const file = normalize(join(root, path === '/' ? 'index.html' : decodeURIComponent(path)));
    if (!file.startsWith(root + sep)) {
      res.writeHead(404, headers).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404, headers).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
