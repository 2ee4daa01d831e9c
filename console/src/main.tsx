/**
 * The admin console's start: read `config.json`, finish a sign-in the
 * identity provider answered, then show the console.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { User } from 'oidc-client-ts';
import { App } from './App';
import { completeSignIn, completeSignOut, createUserManager, isSignInAnswer, isSignOutAnswer } from './auth';
import { loadConfig } from './config';

// react-aria's usePress adds a <style> with its touch-action rule unless an element has this id; the
// rule is in style.css instead, whose <link> gets the id (the CSP refuses inline style).
document.querySelector('link[rel="stylesheet"]')?.setAttribute('id', 'react-aria-pressable-style');

const root = createRoot(document.getElementById('root') ?? document.body);

async function start(): Promise<void> {
  const config = await loadConfig();
  const users = createUserManager(config);
  let user: User | undefined;
  let problem: string | undefined;
  const here = new URL(location.href);
  if (isSignInAnswer(here)) {
    try {
      user = await completeSignIn(users);
    } catch (error) {
      problem = `Signing in did not complete: ${error instanceof Error ? error.message : String(error)}`;
    }
  } else if (isSignOutAnswer(here)) {
    await completeSignOut(users);
  }
  root.render(
    <StrictMode>
      <App config={config} users={users} initialUser={user} initialProblem={problem} />
    </StrictMode>,
  );
}

start().catch((error: unknown) => {
  root.render(
    <main>
      <h1>Admin console</h1>
      <p role="alert">{error instanceof Error ? error.message : String(error)}</p>
    </main>,
  );
});
