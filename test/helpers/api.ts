import request from 'supertest';
import type { Response } from 'supertest';
import type { Express } from 'express';

/** What one call sends. */
export interface CallOptions {
  readonly token?: string;
  /** A raw `Authorization` header, instead of `Bearer <token>`. */
  readonly authorization?: string;
  /** A JSON value, or a raw string sent with `contentType`. */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
  /** Where the router is mounted; the contract sees the path without it. */
  readonly prefix?: string;
}

/** Send a request (its response is held against `openapi.yaml` like every other: contract-hook.ts). */
export async function call(app: Express, method: 'get' | 'post' | 'put' | 'delete', path: string, options: CallOptions = {}): Promise<Response> {
  let req = request(app)[method](`${options.prefix ?? ''}${path}`);
  const authorization = options.authorization ?? (options.token === undefined ? undefined : `Bearer ${options.token}`);
  if (authorization !== undefined) req = req.set('Authorization', authorization);
  for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
  if (options.body !== undefined) {
    if (Buffer.isBuffer(options.body)) {
      // Raw bytes as they are: superagent would otherwise serialise a Buffer under a JSON content type as {"type":"Buffer",...}.
      const raw: unknown = options.body;
      req = req.set('Content-Type', options.contentType ?? 'application/json').serialize(() => raw as string).send(raw as string);
    } else if (typeof options.body === 'string') {
      req = req.set('Content-Type', options.contentType ?? 'application/json').send(options.body);
    } else {
      req = req.set('Content-Type', options.contentType ?? 'application/json').send(JSON.stringify(options.body));
    }
  }
  return req;
}

/** Assert a whole error: status, body, no-store, and the challenge or `Retry-After` it must carry. */
export function expectError(res: Response, status: number, code: string, challenge?: 'bare' | 'error'): void {
  expect({ status: res.status, error: (res.body as { error?: unknown }).error }).toEqual({ status, error: code });
  expect(res.headers['cache-control']).toBe('no-store');
  expect(typeof (res.body as { error_description?: unknown }).error_description).toBe('string');
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
  const header: unknown = res.headers['www-authenticate'];
  if (challenge === 'bare') expect(header).toMatch(/^Bearer realm="[^"]+"$/);
  else if (challenge === 'error') expect(header).toMatch(new RegExp(`^Bearer realm="[^"]+", error="${code}", error_description="[^"]+"(, [a-z_]+="[^"]*")*$`));
  else expect(header).toBeUndefined();
  if (status === 503 || status === 429) expect(res.headers['retry-after']).toMatch(/^\d+$/);
}
