/**
 * Sign-in with oidc-client-ts: authorization code with PKCE at the issuer of
 * `config.json`, the console's own address as redirect URI, tokens in memory
 * only (a reload signs in again, quietly when the identity provider's session
 * lives), renewed with the refresh token before they expire, and sign-out at
 * the identity provider with the ID token as hint.
 */
import { InMemoryWebStorage, UserManager, WebStorageStateStore } from 'oidc-client-ts';
import type { User } from 'oidc-client-ts';
import type { ConsoleConfig } from './config';

/** The console's own address, without the sign-in's query or a page's fragment: its redirect URI. */
export function consoleUrl(): string {
  const url = new URL(location.href);
  url.search = '';
  url.hash = '';
  return url.href;
}

export function createUserManager(config: ConsoleConfig): UserManager {
  return new UserManager({
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: consoleUrl(),
    post_logout_redirect_uri: consoleUrl(),
    response_type: 'code',
    scope: config.scope,
    // Tokens in memory only; the state of a sign-in in progress must outlive the round trip to the identity provider.
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    stateStore: new WebStorageStateStore({ store: sessionStorage }),
    automaticSilentRenew: true,
    // Session monitoring and renewal without a refresh token need an iframe, which the CSP forbids.
    monitorSession: false,
    loadUserInfo: false,
  });
}

/** Whether this address is the identity provider's answer to a sign-in (`?code=&state=`, or `?error=`). */
export function isSignInAnswer(url: URL): boolean {
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
}

/**
 * Finish a sign-in the identity provider answered, and take its answer out of
 * the address bar (and history) at once; the page fragment the administrator
 * was on when they signed in comes back.
 */
export async function completeSignIn(users: UserManager): Promise<User> {
  try {
    const user = await users.signinRedirectCallback();
    const state = user.state as { hash?: string } | undefined;
    history.replaceState(null, '', `${consoleUrl()}${state?.hash ?? ''}`);
    return user;
  } catch (error) {
    history.replaceState(null, '', consoleUrl());
    throw error;
  }
}

/** Whether this address is the identity provider's answer to a sign-out (`?state=` alone). */
export function isSignOutAnswer(url: URL): boolean {
  return url.searchParams.has('state') && !isSignInAnswer(url);
}

/** Forget the sign-out's state, and take it out of the address bar. */
export async function completeSignOut(users: UserManager): Promise<void> {
  try {
    await users.signoutRedirectCallback();
  } catch {
    // A stale or foreign state: nothing to finish, the tokens are gone anyway.
  }
  history.replaceState(null, '', consoleUrl());
}

/** Go to the identity provider; back here with the same page afterwards. */
export async function signIn(users: UserManager): Promise<void> {
  await users.signinRedirect({ state: { hash: location.hash } });
}
