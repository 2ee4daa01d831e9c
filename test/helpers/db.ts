import { randomBytes } from 'node:crypto';

/** The URI of a database of this test file's own on the run's server. */
export function testDatabaseUri(label: string): string {
  const base = process.env.TEST_MONGODB_URI;
  if (!base) throw new Error('TEST_MONGODB_URI is unset: run the tests through jest (test/helpers/global-setup.ts)');
  const name = `${label.replace(/[^A-Za-z0-9]/g, '_').slice(0, 40)}_${randomBytes(4).toString('hex')}`;
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}
