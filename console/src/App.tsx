/** The console's frame: sign-in, the navigation, the page of the address. */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { Button, Link } from 'react-aria-components';
import type { User, UserManager } from 'oidc-client-ts';
import { AdminApi } from './api';
import { signIn } from './auth';
import type { ConsoleConfig } from './config';
import { ConsoleContext } from './context';
import type { ConsoleContextValue } from './context';
import { EmailPage } from './pages/EmailPage';
import { EventsPage } from './pages/EventsPage';
import { UserPage } from './pages/UserPage';
import { UsersPage } from './pages/UsersPage';
import { claimsOf, rightsOfToken } from './roles';
import { hrefOf, useRoute } from './router';
import type { Route } from './router';

interface AppProps {
  readonly config: ConsoleConfig;
  readonly users: UserManager;
  readonly initialUser: User | undefined;
  readonly initialProblem: string | undefined;
}

const PAGES: readonly { readonly route: Route; readonly label: string }[] = [
  { route: { page: 'users' }, label: 'Users' },
  { route: { page: 'events' }, label: 'Events' },
  { route: { page: 'email' }, label: 'Email' },
];

export function App({ config, users, initialUser, initialProblem }: AppProps): ReactNode {
  const [user, setUser] = useState<User | undefined>(initialUser);
  const [problem, setProblem] = useState(initialProblem);
  const route = useRoute();

  useEffect(() => {
    const loaded = (renewed: User): void => {
      setUser(renewed);
    };
    const ended = (): void => {
      setUser(undefined);
      setProblem('Your session has ended: sign in again.');
    };
    const unsubscribe = [users.events.addUserLoaded(loaded), users.events.addAccessTokenExpired(ended), users.events.addUserUnloaded(ended)];
    return () => {
      for (const remove of unsubscribe) remove();
    };
  }, [users]);

  const token = user?.access_token;
  // The API reads the token of the moment: a silent renewal changes it without reloading every page.
  const tokenRef = useRef(token);
  tokenRef.current = token;
  const api = useMemo(
    () =>
      new AdminApi(config.realm, {
        accessToken: () => tokenRef.current,
        onUnauthorized: () => {
          setUser(undefined);
          setProblem('Your session has ended: sign in again.');
        },
      }),
    [config],
  );
  const rights = token === undefined ? undefined : rightsOfToken(token, config);
  const claimedEmail = token === undefined ? undefined : claimsOf(token)?.email;
  const email = typeof claimedEmail === 'string' ? claimedEmail : undefined;
  // The same context while the rights stay the same: a renewed token re-renders no page.
  const rightsKey = rights === undefined ? '' : Object.entries(rights).join();
  const value = useMemo<ConsoleContextValue | undefined>(
    () => (rights === undefined ? undefined : { api, rights, config, email }),
    [api, config, email, rightsKey],
  );

  const startSignIn = (): void => {
    signIn(users).catch((error: unknown) => {
      setProblem(`The identity provider could not be reached: ${error instanceof Error ? error.message : String(error)}`);
    });
  };

  if (value === undefined) {
    return (
      <main className="signed-out">
        <h1>Admin console</h1>
        <p>Realm {config.realm}. Sign in as an administrator of the realm{config.adminRealm === undefined ? '' : ` (in realm ${config.adminRealm})`}.</p>
        {problem === undefined ? null : <p role="alert" className="message failure">{problem}</p>}
        <Button onPress={startSignIn}>Sign in</Button>
      </main>
    );
  }

  const signOut = (): void => {
    users.signoutRedirect({ id_token_hint: user?.id_token }).catch(() => {
      // The identity provider cannot be reached: forget the tokens here at least.
      void users.removeUser();
    });
  };

  return (
    <ConsoleContext value={value}>
      <header className="top">
        <p className="brand">
          Admin console <span className="realm">{config.realm}</span>
        </p>
        <nav aria-label="Console">
          <ul>
            {PAGES.map(({ route: target, label }) => (
              <li key={label}>
                <Link href={hrefOf(target)} aria-current={route.page === target.page || (route.page === 'user' && target.page === 'users') ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <Button className="react-aria-Button quiet" onPress={signOut}>
          Sign out
        </Button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </ConsoleContext>
  );
}

function Page({ route }: { route: Route }): ReactNode {
  switch (route.page) {
    case 'users':
      return <UsersPage />;
    case 'user':
      return <UserPage key={route.id} id={route.id} />;
    case 'events':
      return <EventsPage />;
    case 'email':
      return <EmailPage />;
  }
}
