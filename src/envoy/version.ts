/**
 * Envoy versions and the features geosync's bootstrap depends on. See
 * /work/shared/notes/envoy-semantics.md §4 and §8 and Envoy's changelogs.
 */

export interface EnvoyVersion {
  readonly major: number;
  readonly minor: number;
}

export function parseEnvoyVersion(text: string): EnvoyVersion | undefined {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function atLeast(v: EnvoyVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * ext_proc as an upstream (cluster) filter was registered by envoyproxy/envoy#33273, first
 * released in 1.31 (UpstreamExternalProcessingFilterConfig in
 * source/extensions/filters/http/ext_proc/config.cc).
 */
export function hasUpstreamExtProc(v: EnvoyVersion): boolean {
  return atLeast(v, 1, 31);
}

/**
 * Before 1.37, attributes built from request headers (request.path, request.method) were missing
 * when ext_proc ran only on the encode path (changelogs/1.37.0.yaml, bug_fixes, ext_proc). From
 * 1.37 geosync can skip the request-headers round trip and read them from `response_attributes`.
 */
export function hasEncodeOnlyRequestAttributes(v: EnvoyVersion): boolean {
  return atLeast(v, 1, 37);
}
