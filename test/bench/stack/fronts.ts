/**
 * The three ways a client in region B reaches content only a sibling holds, side by side in one
 * deployment of regions a, b, c and d (parts 2 and 3):
 *
 * - `storage`: B's Envoy and geosync, which looks a and c up in their storage (distribution's
 *   layout, read across the link);
 * - `registry`: D's Envoy and geosync, which names a and c with `lookup: registry` and asks their
 *   registries' API (through their Envoys, across the same links). D is B's twin: distribution on
 *   the same kind of storage, the same siblings, every setting alike, and no other region names it.
 *   So the two geosync rows differ in the kind of lookup only, and look up the same registries
 *   (distribution, whose storage either kind may read) rather than a registry that only the API
 *   can read (go-containerregistry's, test/e2e/registry-lookup.test.ts), which would change the
 *   holder's registry as well;
 * - `retry`: no geosync; an Envoy in front of B's registry that retries each 404 on a, then c
 *   (envoy-retry.ts).
 */
import type { Deployment, DeploymentOptions, RegionDeployment } from '../../support/stacks/deployment';
import { startRetryEnvoy, type RetryEnvoy } from './envoy-retry';

export type LookupKind = 'storage' | 'registry' | 'retry';

export const LOOKUP_KINDS: readonly LookupKind[] = ['storage', 'registry', 'retry'];

/** How each kind is named in the tables. */
export const LOOKUP_LABEL: Readonly<Record<LookupKind, string>> = {
  storage: 'geosync, storage lookups',
  registry: 'geosync, registry API lookups',
  retry: "Envoy's retry of a 404, no geosync",
};

export interface Front {
  readonly kind: LookupKind;
  /** `http://ip:port` and `ip:port` of the Envoy a client in B pulls through. */
  readonly url: string;
  readonly host: string;
  /** The region whose Envoy and geosync answer (b or d); none for the retry. */
  readonly region?: RegionDeployment;
  /** The region whose registry answers this front's local 404s. */
  readonly local: RegionDeployment;
  /** The Envoy process of this front (for its counters). */
  readonly envoy: RegionDeployment['envoy'];
}

/** The deployment options that add region d as b's twin with registry-API lookups. */
export const TWIN_OPTIONS: Pick<
  DeploymentOptions,
  'regions' | 'registryLookups' | 'registryAccessLog' | 'withGeosync'
> = {
  regions: ['a', 'b', 'c', 'd'],
  registryLookups: { d: ['a', 'c'] },
  // The siblings' registries count the requests that reach them (tools/registry-requests.ts).
  registryAccessLog: true,
  // startFronts starts them, one region at a time.
  withGeosync: false,
};

export interface Fronts {
  readonly all: readonly Front[];
  of(kind: LookupKind): Front;
  readonly retry: RetryEnvoy;
  stop(): Promise<void>;
}

/**
 * Starts every region's geosync, one region at a time (four supervisors and their eight workers
 * loading at once on this shared 2-core machine did not all become ready within the deployment's
 * 60 s), then the retrying Envoy. `d` was started with TWIN_OPTIONS.
 */
export async function startFronts(d: Deployment, dir: string): Promise<Fronts> {
  for (const r of d.regions) await r.startGeosync();
  const [a, b, c, twin] = (['a', 'b', 'c', 'd'] as const).map((n) => d.region(n)) as [
    RegionDeployment,
    RegionDeployment,
    RegionDeployment,
    RegionDeployment,
  ];
  const retry = await startRetryEnvoy(b, [a, c], dir);
  const all: Front[] = [
    { kind: 'storage', url: b.url, host: b.host, region: b, local: b, envoy: b.envoy },
    { kind: 'registry', url: twin.url, host: twin.host, region: twin, local: twin, envoy: twin.envoy },
    { kind: 'retry', url: retry.url, host: retry.host, local: b, envoy: retry.envoy },
  ];
  return {
    all,
    of: (kind) => all.find((f) => f.kind === kind) as Front,
    retry,
    stop: () => retry.close(),
  };
}
