import type { ReactNode } from 'react';
export function EmailPage(): ReactNode {
  return <h1>Email</h1>;
}
