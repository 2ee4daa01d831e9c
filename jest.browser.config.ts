import type { Config } from 'jest';
import base from './jest.config';

/**
 * The tests in a real browser (`npm run test:browser`): Debian's Chromium,
 * which `npm run browser:install` installs, driven by playwright-core.
 */
const config: Config = {
  ...base,
  roots: ['<rootDir>/test/browser'],
  testPathIgnorePatterns: [],
  // Starting Chromium on a loaded two-core machine takes seconds.
  testTimeout: 60_000,
};

export default config;
