/**
 * The Envoy releases the generated bootstrap is made for, and the patch of each supported line
 * that production needs. envoy/README.md ("Versions") says why; scripts/envoy-versions pins the
 * releases the tests run (a unit test keeps them in step).
 */
import { compareVersions } from './binary';

/** The oldest release line supported, and tested: OLDEST in scripts/envoy-versions is of it. */
export const OLDEST_SUPPORTED_ENVOY = '1.39';
/** The newest release the tests run (NEWEST in scripts/envoy-versions). */
export const NEWEST_TESTED_ENVOY = '1.40.0';

/**
 * The first patch of each supported line with the ext_proc fixes of 2026-08-26 (use-after-free
 * and double delivery of callbacks in the ext_proc filter and its gRPC client, on geosync's
 * path): https://github.com/envoyproxy/envoy/blob/main/changelogs/1.39.1.yaml; 1.40.0
 * (changelogs/1.40.0.yaml) came after it with the same fix. Later lines have it from their
 * first release.
 */
export const MINIMUM_PATCH: Readonly<Record<string, string>> = { '1.39': '1.39.1', '1.40': '1.40.0' };

/** Why Envoy `version` ("1.39.0") should not run the bootstrap in production; undefined if it may. */
export function releaseConcern(version: string): string | undefined {
  if (compareVersions(version, OLDEST_SUPPORTED_ENVOY) < 0)
    return `geosync's bootstrap is made for Envoy ${OLDEST_SUPPORTED_ENVOY} or newer`;
  const line = version.split('.').slice(0, 2).join('.');
  const minimum = MINIMUM_PATCH[line];
  if (minimum !== undefined && compareVersions(version, minimum) < 0)
    return `on the ${line} line, run ${minimum} or newer in production (its ext_proc fixes; envoy/README.md, "Versions")`;
  return undefined;
}
