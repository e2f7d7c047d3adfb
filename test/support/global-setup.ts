/**
 * jest globalSetup of the integration and end-to-end projects (jest.config.js): names the Envoy
 * binaries (envoy/envoy-global-setup.ts) and starts the run's shared Swift
 * (storage/shared-swift.ts) once, however many projects list it. The test workers start after it
 * and inherit its environment.
 */
import envoySetup from './envoy/envoy-global-setup';
import { startSharedSwift } from './storage/shared-swift';

declare global {
  var geosyncStopSharedSwift: (() => Promise<void>) | undefined;
}

export default async function setup(): Promise<void> {
  if (globalThis.geosyncStopSharedSwift !== undefined) return;
  envoySetup();
  globalThis.geosyncStopSharedSwift = await startSharedSwift();
}
