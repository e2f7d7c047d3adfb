/** jest globalTeardown of the projects global-setup.ts serves: stops the shared Swift once. */
export default async function teardown(): Promise<void> {
  const stop = globalThis.geosyncStopSharedSwift;
  globalThis.geosyncStopSharedSwift = undefined;
  await stop?.();
}
