import type { ReactNode } from 'react';
export function UserPage({ id }: { id: string }): ReactNode {
  return <h1>{id}</h1>;
}
