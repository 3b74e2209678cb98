/**
 * Jest: TypeScript through @swc/jest (type-checking is `npm run typecheck`). `ignoreDynamic`
 * keeps `import()` as it is, so ES-module-only packages (jose) load through Jest's ESM
 * loader (NODE_OPTIONS=--experimental-vm-modules) instead of a `require` that cannot.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs', ignoreDynamic: true } },
    ],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
