import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Tests that need more than `npm install` gives run on their own: npm run test:keycloak (Java,
  // Keycloak) and npm run test:browser (Chromium).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/keycloak/', '<rootDir>/test/browser/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // One real database server for the whole run; each test file uses its own database.
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Every response a test receives from the service is held against openapi.yaml.
  setupFilesAfterEnv: ['<rootDir>/test/helpers/contract-hook.ts'],
  // bcrypt at cost 10 and real servers: generous, but a hang still fails the run.
  testTimeout: 30_000,
  // Two cores on CI: two workers keep bcrypt-heavy files from starving each other.
  maxWorkers: 2,
  // CI (CI=true) also reports what keeps the process alive after the tests.
  detectOpenHandles: process.env.CI === 'true',
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.cjs'],
};

export default config;
