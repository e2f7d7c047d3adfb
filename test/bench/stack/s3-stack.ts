/**
 * The deployment parts 2-4 share: three regions (a, b, c) on Swift S3 (one bucket each), each
 * with its registry, `geosync serve` and Envoy from the generated bootstrap, every setting at its
 * default but `lookupTimeoutMs` (LOOKUP_TIMEOUT_MS) (part 7 starts its own, with tag freshness on in
 * region b). With `fronts`, also region d (b's twin that looks a and c up through their registry
 * API) and an Envoy that retries B's 404s on a and c (fronts.ts). Cross-region links are the delaying proxies of
 * test/support/stacks/deployment.ts; `setRttMs` changes all of them at once between measurements.
 * Swift's access log is collected (tools/storage-requests.ts) to count storage requests per key.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Deployment, DeploymentOptions, RegionDeployment } from '../../support/stacks/deployment';
import { LOADED_LOOKUP_TIMEOUT_MS, startDeployment } from '../../support/stacks/deployment';
import { StorageRequestLog } from '../tools/storage-requests';
import { startFronts, TWIN_OPTIONS, type Fronts } from './fronts';

/** geosync's lookup deadline here, as in the end-to-end tests (test/support/stacks/deployment.ts says why). */
export const LOOKUP_TIMEOUT_MS = LOADED_LOOKUP_TIMEOUT_MS;

export interface S3Stack {
  readonly d: Deployment;
  readonly a: RegionDeployment;
  readonly b: RegionDeployment;
  readonly c: RegionDeployment;
  /** With `fronts` only. */
  readonly fronts?: Fronts;
  readonly storageLog: StorageRequestLog;
  /** Straight to Swift (no delaying proxy), for replication and bucket listings. */
  readonly s3: S3Client;
  readonly rttMs: number;
  setRttMs(ms: number): void;
  stop(): Promise<void>;
}

export async function startS3Stack(
  opts: Pick<
    DeploymentOptions,
    'circuitBreakers' | 'lookupTimeoutMs' | 'tagMaxStalenessMs' | 'tagListMaxStalenessMs' | 'workers'
  > & { readonly fronts?: boolean } = {},
): Promise<S3Stack> {
  const storageLog = await StorageRequestLog.start();
  let d: Deployment;
  let fronts: Fronts | undefined;
  const { fronts: withFronts, ...deployment } = opts;
  try {
    d = await startDeployment({
      regions: ['a', 'b', 'c'],
      ...(withFronts ? TWIN_OPTIONS : {}),
      storage: 's3',
      swiftAccessLogUdpPort: storageLog.port,
      ...deployment,
      lookupTimeoutMs: opts.lookupTimeoutMs ?? LOOKUP_TIMEOUT_MS,
    });
  } catch (err) {
    await storageLog.close();
    throw err;
  }
  if (withFronts) {
    try {
      fronts = await startFronts(d, d.dir);
    } catch (err) {
      await d.stop().finally(() => storageLog.close());
      throw err;
    }
  }
  let rtt = 0;
  if (!d.swift) throw new Error('an s3 deployment without Swift');
  const s3 = d.swift.client();
  return {
    d,
    a: d.region('a'),
    b: d.region('b'),
    c: d.region('c'),
    ...(fronts ? { fronts } : {}),
    storageLog,
    s3,
    get rttMs() {
      return rtt;
    },
    setRttMs(ms: number) {
      rtt = ms;
      for (const r of d.regions) {
        r.crossRegion.setDelayMs(ms / 2);
        r.s3Proxy?.setDelayMs(ms / 2);
      }
    },
    async stop() {
      try {
        await fronts?.stop();
      } finally {
        await d.stop().finally(() => storageLog.close());
      }
    },
  };
}
