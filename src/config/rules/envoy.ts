/** Rules between `envoy:` and the rest of the file, and between the levels of cluster tuning. */
import { localTuning, mergeTuning, sharedHost, siblingBase } from '../envoy-options';
import { problem, type ConfigProblem } from '../problems';
import { MESSAGE_TIMEOUT_MS } from '../sections/envoy';
import type { Salvaged } from '../salvage';
import type { ClusterTuning, ClusterTuningOverrides } from '../sections/cluster-tuning';
import { namedRegions, type Rule } from './context';

// Envoy stops waiting at message_timeout and (failure_mode_allow) passes the 404 on: a lookup
// allowed to run longer would always lose the race and its answer would be thrown away.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/ext_proc.proto
export const messageTimeoutExceedsLookup: Rule = (ctx) => {
  // A maximum below the minimum reads as the minimum (src/config/resolve.ts).
  const min = ctx.file.lookupTimeoutMs ?? 0;
  const max = ctx.file.lookupTimeoutMaxMs ?? 0;
  const longest = Math.max(min, max);
  if (longest === 0) return [];
  const timeout = ctx.file.envoy?.extProc?.messageTimeoutMs ?? MESSAGE_TIMEOUT_MS;
  if (timeout > longest) return [];
  const key = max >= min ? 'lookupTimeoutMaxMs' : 'lookupTimeoutMs';
  return [problem('envoy.extProc.messageTimeoutMs', `must exceed ${key} (${longest}), got ${timeout}`)];
};

/**
 * A pull received over TLS and redirected to an http:// sibling would carry the client's
 * credentials in cleartext (the redirect keeps the request's headers; Envoy then needs
 * allow_cross_scheme_redirect, src/envoy/routes.ts). Refused unless the operator says the link is safe.
 */
export const tlsListenerKeepsTls: Rule = (ctx) => {
  const listener = ctx.file.envoy?.listener;
  if (!listener?.tls || listener.allowPlaintextSiblings === true) return [];
  return namedRegions(ctx).flatMap(({ index, region }) => {
    if (region.name === ctx.file.region || !region.url?.startsWith('http://')) return [];
    return [
      problem(
        ['regions', index, 'url'],
        "is http:// while envoy.listener.tls is set: clients' credentials received over TLS would reach this sibling in cleartext; use https, or set envoy.listener.allowPlaintextSiblings: true for a private link",
      ),
    ];
  });
};

export const envoyAdminApart: Rule = (ctx) => {
  const { listener, admin } = ctx.file.envoy ?? {};
  if (admin?.port === undefined || admin.port === 0) return [];
  if (admin.port !== listener?.port || admin.address !== listener.address) return [];
  return [problem('envoy.admin.port', 'must differ from envoy.listener.port')];
};

/**
 * Without a port in host matching, regions sharing a host name (loopback test stacks) would have
 * the same virtual host domains: the default is then false, and an explicit true is an error.
 */
export const hostMatchingFitsRegions: Rule = (ctx) => {
  if (ctx.file.envoy?.ignorePortInHostMatching !== true) return [];
  const clash = sharedHost(namedUrls(ctx));
  if (clash === undefined) return [];
  return [
    problem(
      'envoy.ignorePortInHostMatching',
      `must be false: ${clash}, so virtual hosts must match host:port`,
    ),
  ];
};

export const siblingsAreRegions: Rule = (ctx) => {
  const names = namedRegions(ctx).map(({ region }) => region.name);
  const raw = (ctx.raw.envoy as { siblings?: unknown } | undefined)?.siblings;
  const keys = raw && typeof raw === 'object' ? Object.keys(raw) : [];
  return keys.flatMap((name) => {
    const path = ['envoy', 'siblings', name];
    if (name === ctx.file.region) return [problem(path, 'is this region; tune it under envoy.localRegistry')];
    if (!names.includes(name)) return [problem(path, 'is not one of regions[].name')];
    return [];
  });
};

/** A health check's timeout is below its interval, at every level that sets either. */
export const healthCheckTimeoutBelowInterval: Rule = (ctx) => {
  const envoy = ctx.file.envoy;
  const base = siblingBase(envoy);
  const levels: [string[], Salvaged<ClusterTuningOverrides> | undefined, ClusterTuning][] = [
    [['envoy', 'siblingDefaults'], envoy?.siblingDefaults, base],
    [['envoy', 'localRegistry'], envoy?.localRegistry, localTuning(envoy)],
    ...Object.entries(envoy?.siblings ?? {}).map(
      ([name, own]): [string[], Salvaged<ClusterTuningOverrides> | undefined, ClusterTuning] => [
        ['envoy', 'siblings', name],
        own,
        mergeTuning(base, own),
      ],
    ),
  ];
  const out: ConfigProblem[] = [];
  for (const [path, own, tuning] of levels) {
    // Inherited values were checked where they were written; only this level's keys count here.
    if (own?.healthCheck?.timeoutMs === undefined && own?.healthCheck?.intervalMs === undefined) continue;
    if (tuning.healthCheck.timeoutMs < tuning.healthCheck.intervalMs) continue;
    out.push(
      problem(
        [...path, 'healthCheck', 'timeoutMs'],
        `must be below intervalMs (${tuning.healthCheck.intervalMs})`,
      ),
    );
  }
  return out;
};

function namedUrls(ctx: Parameters<Rule>[0]): { name: string; url: string }[] {
  return namedRegions(ctx).flatMap(({ region }) =>
    region.url ? [{ name: region.name, url: region.url }] : [],
  );
}
