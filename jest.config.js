// Three projects, so a developer can run the fast units alone (npm run test:unit):
//   unit        pure logic (loopback HTTP/gRPC fakes only)
//   integration real gRPC on port 0, real registries, real S3 (Swift), real skopeo, real Envoy
//   e2e         whole regions: registry, geosync serve and real Envoy each, pulled by skopeo
// globalSetup names the Envoy binaries the suites run on (and fails fast when there are none), and
// starts the one Swift the suites share (test/support/storage/shared-swift.ts).
const NATIVE_IMPORT_DIRS = '/node_modules/(teeny-request|gaxios)/';
const NATIVE_IMPORT = `${NATIVE_IMPORT_DIRS}.+\\.js$`;
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // Google's clients load node-fetch 3 with import(), which jest refuses (see the transform).
    [NATIVE_IMPORT]: '<rootDir>/test/support/jest-native-import.js',
  },
  transformIgnorePatterns: [`^(?!.*${NATIVE_IMPORT_DIRS}).*/node_modules/`],
  // The demo's and the bench's build (tsconfig.demo.json) holds a copy of package.json.
  modulePathIgnorePatterns: ['<rootDir>/build/'],
};
module.exports = {
  // Only a guard against a hang: tests assert outcomes, never speed, and on a loaded 2-core
  // machine starting one Node process (the CLI) can take seconds. Files that wait longer set more.
  // A global option: inside `projects` jest ignores it and keeps its 5 s (a CI run timed out a
  // test of three CLI runs that way).
  testTimeout: 60_000,
  // Without timings from an earlier run, the files that declare long timeouts start first.
  testSequencer: '<rootDir>/test/support/jest-sequencer.js',
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
