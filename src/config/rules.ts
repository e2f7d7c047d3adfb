/**
 * The rules between sections. They run last, on every part of the file that parsed (refine.ts),
 * with the environment the secrets come from.
 */
import type { Env } from './env';
import type { Issue, Parsed } from './refine';
import type { ConfigFile } from './schema';
import { MIN_SECRET_LENGTH } from './sections/notifications';

export interface RuleContext {
  readonly file: Parsed<ConfigFile>;
  /** The file as parsed so far, failed parts as written: names that must be compared even when invalid. */
  readonly written: Parsed<ConfigFile>;
  readonly env: Env;
  /** False for commands that never use secrets (`envoy-config`): they need not be set. */
  readonly secrets: boolean;
}

type Rule = (ctx: RuleContext) => Issue[];
type Region = NonNullable<NonNullable<Parsed<ConfigFile>['regions']>[number]>;

function namedRegions({ file }: RuleContext): { index: number; region: Region & { name: string } }[] {
  return (file.regions ?? []).flatMap((region, index) =>
    region?.name !== undefined ? [{ index, region: region as Region & { name: string } }] : [],
  );
}

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

/** `region` is one of the names declared in `regions`, valid or not (one bad region hides nothing). */
const regionIsDeclared: Rule = ({ file, written }) => {
  const declared = (Array.isArray(written.regions) ? written.regions : [])
    .map((r) => r?.name)
    .filter((n): n is string => typeof n === 'string');
  if (file.region === undefined || declared.length === 0 || declared.includes(file.region)) return [];
  return [
    { path: ['region'], message: `"${file.region}" is not one of regions[].name (${declared.join(', ')})` },
  ];
};

const preferenceNamesSiblings: Rule = (ctx) => {
  const names = namedRegions(ctx).map(({ region }) => region.name);
  const seen = new Set<string>();
  return (ctx.file.preference ?? []).flatMap((name, i): Issue[] => {
    const issue = (why: string) => [{ path: ['preference', i], message: `"${name}" ${why}` }];
    if (name === undefined) return [];
    if (name === ctx.file.region) return issue('is this region; list sibling regions only');
    if (!names.includes(name)) return issue('is not one of regions[].name');
    if (seen.has(name)) return issue('is listed twice');
    seen.add(name);
    return [];
  });
};

const registryCredentialsSet: Rule = (ctx) =>
  (ctx.file.regions ?? []).flatMap((region, index) => {
    const r = region?.lookup === 'registry' ? region.registry : undefined;
    const missing = (['username', 'password'] as const).filter((k) => r?.[k] === undefined);
    if (r?.credentials !== 'basic' || missing.length === 0 || !ctx.secrets) return [];
    const variable = missing.includes('password') ? ' (or its environment variable)' : '';
    const message = `\`credentials: basic\` needs ${missing.join(' and ')}${variable}`;
    return [{ path: ['regions', index, 'registry', missing[0]!], message }];
  });

/**
 * Tag freshness reads this region's tag history (`_manifests/tags/<tag>/index/`), which only its
 * storage keeps: a registry's API has none (src/tag-freshness/verdict.ts).
 */
const freshnessReadsLocalStorage: Rule = ({ file }) => {
  const f = file.freshness;
  if (!((f?.tagMaxStalenessMs ?? 0) > 0 || (f?.signatureTagMaxStalenessMs ?? 0) > 0)) return [];
  const i = (file.regions ?? []).findIndex((r) => r?.name === file.region);
  const local = file.regions?.[i];
  if (!local || local.storage !== undefined || (local.lookup ?? 'storage') === 'storage') return [];
  const message =
    "tag freshness reads this region's own tag history from its storage: give its `storage` (with `lookup: registry` too), or turn freshness off";
  return [{ path: ['regions', i, 'storage'], message }];
};

/** The secret comes from the variable `authHeader.valueFromEnv` names, never from the file. */
const notificationsSecretSet: Rule = ({ file, env, secrets }) => {
  const n = file.notifications;
  const variable = n?.authHeader?.valueFromEnv;
  if (!n?.enabled || !secrets || variable === undefined) return [];
  const path = ['notifications', 'authHeader', 'valueFromEnv'];
  const header = n.authHeader?.name ?? 'authorization';
  if (!env[variable])
    return [
      {
        path,
        message: `environment variable ${variable} is not set (the value registries send in the ${header} header)`,
      },
    ];
  if (env[variable].length < MIN_SECRET_LENGTH)
    return [{ path, message: `the value of ${variable} must be at least ${MIN_SECRET_LENGTH} characters` }];
  return [];
};

/**
 * Without a port in host matching, regions sharing a host name (loopback test stacks) would have
 * the same virtual host domains: the default is then false, and an explicit true is an error.
 */
const hostMatchingFitsRegions: Rule = (ctx) => {
  const clash = sharedHost(namedRegions(ctx).map(({ region }) => region));
  if (ctx.file.envoy?.ignorePortInHostMatching !== true || clash === undefined) return [];
  const message = `must be false: ${clash}, so virtual hosts must match host:port`;
  return [{ path: ['envoy', 'ignorePortInHostMatching'], message }];
};

// Envoy stops waiting at message_timeout and (failure_mode_allow) passes the 404 on: a lookup
// allowed to run longer would always lose the race and its answer would be thrown away.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/ext_proc.proto
const messageTimeoutExceedsLookup: Rule = ({ file }) => {
  // A maximum below the minimum reads as the minimum (validate.ts).
  const min = file.lookupTimeoutMs ?? 0;
  const max = file.lookupTimeoutMaxMs ?? 0;
  const longest = Math.max(min, max);
  const timeout = file.envoy?.extProc?.messageTimeoutMs;
  if (timeout === undefined || longest === 0 || timeout > longest) return [];
  const key = max >= min ? 'lookupTimeoutMaxMs' : 'lookupTimeoutMs';
  const message = `must exceed ${key} (${longest}), got ${timeout}`;
  return [{ path: ['envoy', 'extProc', 'messageTimeoutMs'], message }];
};

const siblingsAreRegions: Rule = (ctx) => {
  const names = namedRegions(ctx).map(({ region }) => region.name);
  const siblings = ctx.written.envoy?.siblings;
  return Object.keys(siblings && typeof siblings === 'object' ? siblings : {}).flatMap((name) => {
    const path = ['envoy', 'siblings', name];
    if (name === ctx.file.region)
      return [{ path, message: 'is this region; tune it under envoy.localRegistry' }];
    return names.includes(name) ? [] : [{ path, message: 'is not one of regions[].name' }];
  });
};

/**
 * A pull received over TLS and redirected to an http:// sibling would carry the client's
 * credentials in cleartext (the redirect keeps the request's headers; Envoy then needs
 * allow_cross_scheme_redirect, src/envoy/routes.ts). Refused unless the operator says the link is safe.
 */
const tlsListenerKeepsTls: Rule = (ctx) => {
  const listener = ctx.file.envoy?.listener;
  if (!listener?.tls || listener.allowPlaintextSiblings === true) return [];
  const message =
    "is http:// while envoy.listener.tls is set: clients' credentials received over TLS would reach this sibling in cleartext; use https, or set envoy.listener.allowPlaintextSiblings: true for a private link";
  return namedRegions(ctx).flatMap(({ index, region }) =>
    region.name === ctx.file.region || !region.url?.startsWith('http://')
      ? []
      : [{ path: ['regions', index, 'url'], message }],
  );
};

/** In the order their problems are listed, after those of the sections. */
export const RULES: readonly Rule[] = [
  registryCredentialsSet,
  freshnessReadsLocalStorage,
  regionIsDeclared,
  preferenceNamesSiblings,
  notificationsSecretSet,
  hostMatchingFitsRegions,
  messageTimeoutExceedsLookup,
  siblingsAreRegions,
  tlsListenerKeepsTls,
];
