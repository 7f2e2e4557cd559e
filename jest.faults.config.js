/**
 * The fault suite (`npm run test:faults`): worker kills, a server restart, a
 * store outage and load, each ending with the consistency checker. Same dev
 * server set-up and summary line as `npm test`; the teardown renders
 * docs/RELIABILITY.md from what the run recorded.
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.fault.ts'],
  globalSetup: '<rootDir>/test/faults/global-setup.ts',
  globalTeardown: '<rootDir>/test/faults/global-teardown.ts',
  testTimeout: 600000,
};
