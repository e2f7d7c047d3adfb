// Three projects, so a developer can run the fast units alone (npm run test:unit):
//   unit        pure logic, and the Envoy simulator's own rules (loopback HTTP/gRPC fakes only)
//   integration real gRPC on port 0, real registries, real S3 (Swift), real skopeo
//   e2e         the whole path through the Envoy simulator (or a real Envoy on PATH)
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
