/** The console's pages, in the address's fragment (`#/users/<id>`): the service serves one page per realm. */
import { useEffect, useState } from 'react';

export type Route =
  | { readonly page: 'users' }
  | { readonly page: 'user'; readonly id: string }
  | { readonly page: 'events' }
  | { readonly page: 'email' };

/** The route of a fragment; the users page for anything else. */
export function routeOf(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'users' && parts[1] !== undefined && parts[1] !== '') return { page: 'user', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'events') return { page: 'events' };
  if (parts[0] === 'email') return { page: 'email' };
  return { page: 'users' };
}

export function hrefOf(route: Route): string {
  return route.page === 'user' ? `#/users/${encodeURIComponent(route.id)}` : `#/${route.page}`;
}

/** The current route, following the fragment. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const follow = (): void => {
      setRoute(routeOf(location.hash));
    };
    addEventListener('hashchange', follow);
    return () => {
      removeEventListener('hashchange', follow);
    };
  }, []);
  return route;
}

export function navigate(route: Route): void {
  location.hash = hrefOf(route);
}
