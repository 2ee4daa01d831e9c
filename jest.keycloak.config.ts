import type { Config } from 'jest';
import base from './jest.config';

/**
 * The tests against a real Keycloak (`npm run test:keycloak`): one Keycloak
 * and one database server for the run, started by the global setup.
 */
const config: Config = {
  ...base,
  roots: ['<rootDir>/test/keycloak'],
  testPathIgnorePatterns: [],
  globalSetup: '<rootDir>/test/keycloak/global-setup.ts',
  globalTeardown: '<rootDir>/test/keycloak/global-teardown.ts',
  // Keycloak answers in tens of milliseconds, but `kc.sh export` starts a JVM (~30 s).
  testTimeout: 120_000,
  // One Keycloak shared by the files; on two cores, one file at a time keeps its timings honest.
  maxWorkers: 1,
};

export default config;
