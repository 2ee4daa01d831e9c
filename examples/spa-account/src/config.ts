/** What the page is told at run time (`/config.json`, served beside it), and the OIDC client made from it. */
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';

export interface SpaConfig {
  /** The realm's issuer, e.g. `http://127.0.0.1:8180/realms/demo`. */
  readonly authority: string;
  /** The public client (authorization code with PKCE). */
  readonly clientId: string;
  /** Where password-resources serves `/realms/...`. */
  readonly service: string;
  /** The realm at the service. */
  readonly realm: string;
}

export async function loadConfig(): Promise<SpaConfig> {
  const res = await fetch('/config.json');
  if (!res.ok) throw new Error(`config.json: ${res.status}`);
  return (await res.json()) as SpaConfig;
}

/** oidc-client-ts, code flow with PKCE; tokens in sessionStorage (this tab only); no iframes (the CSP forbids frames). */
export function userManager(config: SpaConfig): UserManager {
  return new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: `${location.origin}/`,
    popup_redirect_uri: `${location.origin}/popup.html`,
    response_type: 'code',
    scope: 'openid',
    automaticSilentRenew: false,
    monitorSession: false,
    loadUserInfo: false,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
  });
}
