/**
 * RFC 8252 sign-in for a native app: authorization code with PKCE (RFC 7636,
 * S256) in the user's browser, the code coming back to a loopback redirect on
 * an ephemeral port (section 7.3), exchanged at the token endpoint with the
 * verifier. Written out in full (node:crypto, node:http, fetch) so each step
 * shows; openid-client 6 does the same, but is an ES module and this project
 * compiles to CommonJS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The tokens the app keeps; the access token is what the service takes. */
export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken?: string;
}

/** Where and as whom the app signs in. */
export interface SignInOptions {
  /** The realm's issuer, e.g. `http://127.0.0.1:8180/realms/demo`. */
  readonly issuer: string;
  /** A public client allowing the redirect `http://127.0.0.1/callback` on any port. */
  readonly clientId: string;
  /** Shows the address to the user (prints it, opens the browser). */
  readonly open: (url: string) => void;
  /** Step-up (RFC 9470): the sign-in must be at most this many seconds old, so the user logs in again. */
  readonly maxAge?: number;
  /** Abandon the sign-in after this long. Default: 5 minutes. */
  readonly timeoutMs?: number;
}

interface Endpoints {
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
}

const base64url = (bytes: Buffer): string => bytes.toString('base64url');

async function discover(issuer: string): Promise<Endpoints> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`no OpenID configuration at ${issuer} (${res.status})`);
  return (await res.json()) as Endpoints;
}

/** A loopback listener on 127.0.0.1 (never `localhost`, RFC 8252 section 8.3) that takes one redirect. */
async function loopback(expectedState: string, timeoutMs: number): Promise<{ redirectUri: string; code: Promise<string> }> {
  let settle: { resolve: (code: string) => void; reject: (error: Error) => void } | undefined;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const error = url.searchParams.get('error');
    const ok = error === null && url.searchParams.get('state') === expectedState && url.searchParams.has('code');
    res.writeHead(ok ? 200 : 400, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(ok ? 'Signed in. You can close this window and go back to the app.' : 'The sign-in did not complete. Go back to the app.');
    if (ok) settle?.resolve(url.searchParams.get('code') ?? '');
    else settle?.reject(new Error(error === null ? 'the redirect came back without the state this sign-in sent' : `sign-in refused: ${error}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const timer = setTimeout(() => settle?.reject(new Error('the sign-in was not completed in time')), timeoutMs);
  const done = (): void => {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  };
  code.then(done, done);
  return { redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, code };
}

/**
 * Sign the user in through their browser and return the tokens.
 *
 * @example
 * const tokens = await signIn({ issuer, clientId: 'native-client', open: (url) => console.log(url) });
 */
export async function signIn(options: SignInOptions): Promise<Tokens> {
  const endpoints = await discover(options.issuer);
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const { redirectUri, code } = await loopback(state, options.timeoutMs ?? 300_000);
  const url = new URL(endpoints.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: redirectUri,
    scope: 'openid',
    state,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    // Step-up: both, as Keycloak honours either (max_age=0 alone would also do).
    ...(options.maxAge === undefined ? {} : { max_age: String(options.maxAge), prompt: 'login' }),
  }).toString();
  options.open(url.href);
  const res = await fetch(endpoints.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: options.clientId, code: await code, redirect_uri: redirectUri, code_verifier: verifier }),
  });
  const body = (await res.json()) as { access_token?: string; refresh_token?: string; error?: string; error_description?: string };
  if (!res.ok || body.access_token === undefined) throw new Error(`the token endpoint refused the code: ${body.error ?? res.status} ${body.error_description ?? ''}`.trim());
  return { accessToken: body.access_token, ...(body.refresh_token === undefined ? {} : { refreshToken: body.refresh_token }) };
}
