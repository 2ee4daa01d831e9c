import type { ResolvedRealm } from '../config/realm-options';

/** A realm by name; only names the router already resolved reach it. */
export type RealmLookup = (name: string) => ResolvedRealm;

/** Look realms up in the resolved options; an unknown name is a bug, never a user's mistake. */
export function realmLookup(realms: ReadonlyMap<string, ResolvedRealm>): RealmLookup {
  return (name) => {
    const found = realms.get(name);
    if (!found) throw new Error(`unknown realm ${name}`);
    return found;
  };
}
