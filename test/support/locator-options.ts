/**
 * ProbeLocator options for tests: small bounds for scripted probes on a manual clock (unit), or,
 * with `REAL_STORAGE`, room for real Swift S3 on a loaded machine (integration). Reading found
 * manifests is off unless a test is about it (src/locate/manifest-contents.ts), so that each
 * lookup is its own.
 */
import type { ProbeLocatorOptions } from '../../src/locate/probe-locator';

export function locatorOptions(overrides: Partial<ProbeLocatorOptions> = {}): ProbeLocatorOptions {
  return {
    probeBlobData: true,
    hedgeMs: 10,
    lookupTimeoutMs: 150,
    maxConcurrentProbesPerRegion: 8,
    cache: {
      maxEntries: 100,
      maxBytes: 1 << 20,
      digestTtlMs: 600_000,
      tagTtlMs: 5_000,
      negativeTtlMs: 2_000,
    },
    breaker: { failureThreshold: 2, coolDownMs: 10_000 },
    keepWarmIntervalMs: 0,
    manifestContents: false,
    ...overrides,
  };
}

/** Real object storage: a deadline the locators' manual clocks never reach, more room. */
export const REAL_STORAGE: Partial<ProbeLocatorOptions> = {
  lookupTimeoutMs: 2_000,
  maxConcurrentProbesPerRegion: 64,
  cache: { maxEntries: 1000, maxBytes: 1 << 20, digestTtlMs: 600_000, tagTtlMs: 5_000, negativeTtlMs: 2_000 },
  breaker: { failureThreshold: 5, coolDownMs: 10_000 },
};
