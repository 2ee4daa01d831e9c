import { reapLeftovers } from './processes';

/** Stop the run's database server, then make sure no test left a process of ours running. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__passwordResourcesDb?.stop();
  await reapLeftovers();
}
