/** Rules between `envoy:` and the rest of the file. */
import { namedRegions, type Rule } from './context';

/** "regions a and b share host h" for the first two regions whose URLs share a host name. */
export function sharedHost(regions: readonly { name?: string; url?: string }[]): string | undefined {
  const seen = new Map<string, string | undefined>();
  for (const { name, url } of regions) {
    const host = url === undefined ? undefined : new URL(url).hostname;
    if (host !== undefined && seen.has(host))
      return `regions ${seen.get(host)} and ${name} share host ${host}`;
    if (host !== undefined) seen.set(host, name);
  }
  return undefined;
}

// Envoy stops waiting at message_timeout and (failure_mode_allow) passes the 404 on: a lookup
// allowed to run longer would always lose the race and its answer would be thrown away.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/ext_proc.proto
export const messageTimeoutExceedsLookup: Rule = ({ file }) => {
  // A maximum below the minimum reads as the minimum (src/config/resolve.ts).
  const min = file.lookupTimeoutMs ?? 0;
  const max = file.lookupTimeoutMaxMs ?? 0;
  const longest = Math.max(min, max);
  const timeout = file.envoy?.extProc?.messageTimeoutMs;
  if (timeout === undefined || longest === 0 || timeout > longest) return [];
  const key = max >= min ? 'lookupTimeoutMaxMs' : 'lookupTimeoutMs';
  return [
    {
      path: ['envoy', 'extProc', 'messageTimeoutMs'],
      message: `must exceed ${key} (${longest}), got ${timeout}`,
    },
  ];
};

/**
 * A pull received over TLS and redirected to an http:// sibling would carry the client's
 * credentials in cleartext (the redirect keeps the request's headers; Envoy then needs
 * allow_cross_scheme_redirect, src/envoy/routes.ts). Refused unless the operator says the link is safe.
 */
export const tlsListenerKeepsTls: Rule = (ctx) => {
  const listener = ctx.file.envoy?.listener;
  if (!listener?.tls || listener.allowPlaintextSiblings === true) return [];
  return namedRegions(ctx).flatMap(({ index, region }) =>
    region.name === ctx.file.region || !region.url?.startsWith('http://')
      ? []
      : [
          {
            path: ['regions', index, 'url'],
            message:
              "is http:// while envoy.listener.tls is set: clients' credentials received over TLS would reach this sibling in cleartext; use https, or set envoy.listener.allowPlaintextSiblings: true for a private link",
          },
        ],
  );
};

/**
 * Without a port in host matching, regions sharing a host name (loopback test stacks) would have
 * the same virtual host domains: the default is then false, and an explicit true is an error.
 */
export const hostMatchingFitsRegions: Rule = (ctx) => {
  const clash = sharedHost(namedRegions(ctx).map(({ region }) => region));
  if (ctx.file.envoy?.ignorePortInHostMatching !== true || clash === undefined) return [];
  const message = `must be false: ${clash}, so virtual hosts must match host:port`;
  return [{ path: ['envoy', 'ignorePortInHostMatching'], message }];
};

export const siblingsAreRegions: Rule = (ctx) => {
  const names = namedRegions(ctx).map(({ region }) => region.name);
  const siblings = ctx.written.envoy?.siblings;
  return Object.keys(siblings && typeof siblings === 'object' ? siblings : {}).flatMap((name) => {
    const path = ['envoy', 'siblings', name];
    if (name === ctx.file.region)
      return [{ path, message: 'is this region; tune it under envoy.localRegistry' }];
    return names.includes(name) ? [] : [{ path, message: 'is not one of regions[].name' }];
  });
};

export const ENVOY_RULES = [
  hostMatchingFitsRegions,
  messageTimeoutExceedsLookup,
  siblingsAreRegions,
  tlsListenerKeepsTls,
];
