/**
 * The deployment parts 2-4 share: three regions (a, b, c) on Swift S3 (one bucket each), each
 * with its registry, `geosync serve` and Envoy from the generated bootstrap, every setting at its
 * default but `lookupTimeoutMs` (LOOKUP_TIMEOUT_MS) (part 7 starts its own, with tag freshness on in
 * region b). Cross-region links are the delaying proxies of
 * test/support/deployment.ts; `setRttMs` changes all of them at once between measurements.
 * Swift's access log is collected (tools/storage-requests.ts) to count storage requests per key.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Deployment, DeploymentOptions, RegionDeployment } from '../../support/deployment';
import { LOADED_LOOKUP_TIMEOUT_MS, startDeployment } from '../../support/deployment';
import { StorageRequestLog } from '../tools/storage-requests';

/** geosync's lookup deadline here, as in the end-to-end tests (test/support/deployment.ts says why). */
export const LOOKUP_TIMEOUT_MS = LOADED_LOOKUP_TIMEOUT_MS;

export interface S3Stack {
  readonly d: Deployment;
  readonly a: RegionDeployment;
  readonly b: RegionDeployment;
  readonly c: RegionDeployment;
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
  > = {},
): Promise<S3Stack> {
  const storageLog = await StorageRequestLog.start();
  let d: Deployment;
  try {
    d = await startDeployment({
      regions: ['a', 'b', 'c'],
      storage: 's3',
      swiftAccessLogUdpPort: storageLog.port,
      ...opts,
      lookupTimeoutMs: opts.lookupTimeoutMs ?? LOOKUP_TIMEOUT_MS,
    });
  } catch (err) {
    await storageLog.close();
    throw err;
  }
  let rtt = 0;
  if (!d.swift) throw new Error('an s3 deployment without Swift');
  const s3 = d.swift.client();
  return {
    d,
    a: d.region('a'),
    b: d.region('b'),
    c: d.region('c'),
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
        await d.stop();
      } finally {
        await storageLog.close();
      }
    },
  };
}
