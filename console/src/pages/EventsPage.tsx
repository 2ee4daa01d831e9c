import type { ReactNode } from 'react';
export function EventsPage(): ReactNode {
  return <h1>Events</h1>;
}
