import { reapLeftovers } from '../helpers/processes';

export default async function globalTeardown(): Promise<void> {
  await Promise.all([globalThis.__passwordResourcesKeycloak?.stop(), globalThis.__passwordResourcesDb?.stop()]);
  await reapLeftovers();
}
