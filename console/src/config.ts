/** What the console is told at run time (`config.json`, served beside it by the router). */

import type { AdminRoleNames } from './roles';

export interface ConsoleConfig {
  /** The realm administered. */
  readonly realm: string;
  /** Where administrators sign in: the realm's issuer, or its admin realm's. */
  readonly issuer: string;
  /** The console's public client at the issuer. */
  readonly clientId: string;
  readonly scope: string;
  /** Set when `issuer` is the admin realm's (Keycloak's `master`). */
  readonly adminRealm?: string;
  /** The client whose roles in the token are rights on the realm. */
  readonly roleClient: string;
  readonly adminRoles: AdminRoleNames;
}

/** `config.json`, beside the page. */
export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch(new URL('config.json', document.baseURI), { cache: 'no-cache' });
  if (!res.ok) throw new Error(`The console's settings could not be read (config.json answered ${res.status}).`);
  return (await res.json()) as ConsoleConfig;
}
