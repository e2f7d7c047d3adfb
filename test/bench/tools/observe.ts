/**
 * What the benchmark reads off the running deployment: geosync's `/metrics`, Envoy's admin stats,
 * and a region's bucket. (test/e2e/helpers.ts has readers like these; it uses jest's `expect`,
 * which the bench's build does not have, hence these, on test/support's.)
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { RegionDeployment } from '../../support/stacks/deployment';
import { ENVOY_STAT, statValue } from '../../support/envoy/envoy';
import { scrape, sum as sampleSum } from '../../support/prometheus';
import { listObjects, replicateBucket } from '../../support/storage/s3-layout';

export { sampleSum };

export function geosyncMetrics(region: RegionDeployment): Promise<string> {
  return scrape(region.adminUrl);
}

/** geosync's decisions by outcome, and its lookups' count and total time, at one moment. */
export interface GeosyncSnapshot {
  readonly decisions: Readonly<Record<string, number>>;
  readonly lookups: number;
  readonly lookupSeconds: number;
  readonly probes: Readonly<Record<string, number>>;
  readonly coalesced: number;
  /** Storage requests to the siblings (geosync_probe_duration_seconds): count and total time. */
  readonly storageRequests: number;
  readonly storageSeconds: number;
}

const OUTCOMES = ['proxied', 'not_found', 'timeout', 'error', 'pass', 'ineligible'];

export async function geosyncSnapshot(
  region: RegionDeployment,
  regions: readonly string[],
): Promise<GeosyncSnapshot> {
  const text = await geosyncMetrics(region);
  return {
    decisions: Object.fromEntries(
      OUTCOMES.map((o) => [o, sampleSum(text, 'geosync_decisions_total', { geosync_outcome: o })]),
    ),
    lookups: sampleSum(text, 'geosync_lookup_duration_seconds_count'),
    lookupSeconds: sampleSum(text, 'geosync_lookup_duration_seconds_sum'),
    probes: Object.fromEntries(
      regions.map((r) => [r, sampleSum(text, 'geosync_probes_total', { geosync_region: r })]),
    ),
    coalesced: sampleSum(text, 'geosync_lookup_coalesced_total'),
    storageRequests: sampleSum(text, 'geosync_probe_duration_seconds_count'),
    storageSeconds: sampleSum(text, 'geosync_probe_duration_seconds_sum'),
  };
}

/** after − before, field by field. */
export function snapshotDelta(before: GeosyncSnapshot, after: GeosyncSnapshot): GeosyncSnapshot {
  const sub = (x: Readonly<Record<string, number>>, y: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(y).map(([k, v]) => [k, v - (x[k] ?? 0)]));
  return {
    decisions: sub(before.decisions, after.decisions),
    lookups: after.lookups - before.lookups,
    lookupSeconds: after.lookupSeconds - before.lookupSeconds,
    probes: sub(before.probes, after.probes),
    coalesced: after.coalesced - before.coalesced,
    storageRequests: after.storageRequests - before.storageRequests,
    storageSeconds: after.storageSeconds - before.storageSeconds,
  };
}

/** Envoy's counters a part reports (ENVOY_STAT names), at one moment. */
export async function envoyCounters(region: { envoy: RegionDeployment['envoy'] }) {
  const stats = await region.envoy.stats();
  const sum = (re: RegExp) => statValue(stats, re);
  return {
    redirects: stats.get(ENVOY_STAT.redirectsFollowed) ?? 0,
    redirectsFailed: stats.get(ENVOY_STAT.redirectsFailed) ?? 0,
    extProcStreams: sum(ENVOY_STAT.extProc('streams_started')),
    messageTimeouts: sum(ENVOY_STAT.extProc('message_timeouts')),
    failureModeAllowed: sum(ENVOY_STAT.extProc('failure_mode_allowed')),
    pendingOverflow: sum(/^cluster\.[a-z_]+\.upstream_rq_pending_overflow$/),
    extProcPendingOverflow: stats.get('cluster.geosync_ext_proc.upstream_rq_pending_overflow') ?? 0,
    extProcStreamsFailed: sum(ENVOY_STAT.extProc('streams_failed')),
    // A connect that times out fails every request queued in its pool (envoy/README.md,
    // "Connect timeouts under a herd"): these two show it, in any cluster.
    connectTimeouts: sum(/^cluster\.[a-z_]+\.upstream_cx_connect_timeout$/),
    pendingFailureEject: sum(/^cluster\.[a-z_]+\.upstream_rq_pending_failure_eject$/),
    // Envoy's retry (stack/envoy-retry.ts): retries refused by the max_retries breaker, and
    // attempts that could not reach their upstream.
    retryOverflow: sum(/^cluster\.[a-z_]+\.upstream_rq_retry_overflow$/),
    connectFailures: sum(/^cluster\.[a-z_]+\.upstream_cx_connect_fail$/),
  };
}

// ---------------------------------------------------------------------------------------------
// A region's bucket

/** Total bytes stored in a bucket. */
export async function bucketBytes(client: S3Client, bucket: string): Promise<number> {
  return (await listObjects(client, bucket)).reduce((s, o) => s + o.size, 0);
}

/** Replication as a pipeline would do it (test/support/storage/s3-layout.ts); returns the bytes copied. */
export async function replicateS3(
  client: S3Client,
  from: RegionDeployment,
  to: RegionDeployment,
  repository: string,
  digests: readonly string[],
): Promise<number> {
  if (!from.bucket || !to.bucket) throw new Error('replicateS3 needs two S3 regions');
  return (await replicateBucket(client, from.bucket, to.bucket, repository, digests)).bytes;
}
