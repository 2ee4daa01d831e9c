/** Options of the HTTP surface: browsers' origins, the public URL, body size, trusted proxies. */
import { checkHttpUrl } from './checks';
import { DEFAULTS } from './defaults';
import { fail, integer, nameList, refuseUnknown } from './option-checks';

/** A realm's HTTP settings. */
export interface RealmHttpOptions {
  /** Browser origins (`https://app.example`) allowed to call the account API (CORS). Default: none. */
  readonly cors?: { readonly origins: readonly string[] };
}

/** The service-wide HTTP settings. */
export interface HttpOptions {
  /**
   * Where browsers reach this router, e.g. `https://auth.example/gateway`: the
   * base of the links in mails. Required for the email flows; never taken from
   * a request's Host header (a forged host would send users elsewhere).
   */
  readonly publicUrl?: string;
  /** Largest JSON body accepted, in bytes. Default: 16384. */
  readonly bodyLimitBytes?: number;
  /**
   * Proxies whose `X-Forwarded-For` is believed for the client IP of audit
   * events, in Express's `trust proxy` forms (`loopback`, `10.0.0.0/8`, ...).
   * Default: none, the socket's peer is the client.
   */
  readonly trustedProxies?: readonly string[];
}

/** The HTTP settings, checked and completed. */
export interface ResolvedHttp {
  readonly publicUrl: string | undefined;
  readonly bodyLimitBytes: number;
  readonly trustedProxies: readonly string[];
}

/** Origins exactly as browsers send them: scheme, host, optional port; no path, no wildcard. */
export function resolveCorsOrigins(name: string, cors: RealmHttpOptions['cors']): readonly string[] {
  if (cors === undefined) return [];
  refuseUnknown(name, cors, ['origins']);
  const origins = nameList(`${name}.origins`, cors.origins) ?? [];
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed?.origin !== origin) fail(`${name}.origins`, `"${origin}" is not an origin; write it as a browser sends it, e.g. "https://app.example"`);
  }
  return origins;
}

function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const problem = checkHttpUrl(value);
  if (problem) fail('options.publicUrl', problem);
  return value.replace(/\/+$/, '');
}

export function resolveHttp(options: HttpOptions): ResolvedHttp {
  return {
    bodyLimitBytes: integer('options.bodyLimitBytes', options.bodyLimitBytes, DEFAULTS.bodyLimitBytes, 256, 1_048_576),
    publicUrl: publicUrl(options.publicUrl),
    trustedProxies: options.trustedProxies === undefined ? [] : (nameList('options.trustedProxies', options.trustedProxies) ?? []),
  };
}
