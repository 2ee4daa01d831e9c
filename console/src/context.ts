/** What every page is given: the realm's admin API and what the administrator may do there. */
import { createContext, useContext } from 'react';
import type { AdminApi } from './api';
import type { ConsoleConfig } from './config';
import type { Rights } from './roles';

export interface ConsoleContextValue {
  readonly api: AdminApi;
  readonly rights: Rights;
  readonly config: ConsoleConfig;
  /** The signed-in administrator's email, from their token, if it has one. */
  readonly email: string | undefined;
}

export const ConsoleContext = createContext<ConsoleContextValue | undefined>(undefined);

export function useConsole(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (value === undefined) throw new Error('useConsole outside ConsoleContext');
  return value;
}
