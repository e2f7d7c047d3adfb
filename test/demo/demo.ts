/**
 * The README's first command (`npm run demo`): a local two-region deployment on the embedded
 * default (registries on the filesystem driver, no S3), an image pushed to region A and pulled from
 * region B at once, first without geosync, then with it; then the reference replicator
 * (deploy/replication/replicate.sh) brings it to B through B's registry API, and region B's
 * staleness report is printed. Prints a timeline and cleans up on exit.
 *
 * `npm run demo -- --storage s3|azure|gcs` runs both regions on another store instead: Swift's S3,
 * Azurite (Azure Blob) or fake-gcs-server (GCS), with distribution v3 registries for the last two
 * (scripts/demo.sh then builds what they need).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDeployment, type Backend, type Deployment } from '../support/stacks/deployment';
import { envoyBinary, ENVOY_STAT } from '../support/envoy/envoy';
import { isManifestPush } from '../support/stacks/notification-sink';
import { runReplicator } from '../support/stacks/replicator';
import type { StalenessReport } from '../../src/staleness/report';
import { formatStalenessTable } from '../../src/staleness/table';
import { createOciImage } from '../support/oci/oci-image';
import { skopeoPull, skopeoPush } from '../support/clients/skopeo';

const REPO = 'demo/hello';
const t0 = Date.now();
const say = (text: string) => process.stdout.write(`[${String(Date.now() - t0).padStart(6)} ms] ${text}\n`);
const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const s = Date.now();
  const v = await fn();
  return [v, Date.now() - s];
};

const BACKENDS: readonly Backend[] = ['filesystem', 's3', 'azure', 'gcs'];

/** `--storage NAME` (default filesystem: nothing to start besides the registries). */
function storageArg(argv: readonly string[]): Backend {
  const i = argv.indexOf('--storage');
  const value = i >= 0 ? argv[i + 1] : 'filesystem';
  if (!BACKENDS.includes(value as Backend)) {
    throw new Error(`--storage: one of ${BACKENDS.join(', ')}, got ${String(value)}`);
  }
  return value as Backend;
}

async function main(): Promise<number> {
  const envoy = envoyBinary();
  const storage = storageArg(process.argv.slice(2));
  process.stdout.write(
    `geosync demo: two regions on this machine, registries on the ${storage} driver, Envoy ${envoy.version} (${envoy.path})\n\n`,
  );
  const work = mkdtempSync(path.join(os.tmpdir(), 'geosync-demo-'));
  let deployment: Deployment | undefined;
  const cleanup = async () => {
    await deployment?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    say('starting region a and region b (registry + Envoy each; geosync not yet)');
    deployment = await startDeployment({
      regions: ['a', 'b'],
      storage,
      // Debian's 2.8 where it serves (nothing to build: the fastest start); azure and gcs need 3.
      registryVersion: storage === 'azure' || storage === 'gcs' ? 3 : 2,
      withGeosync: false,
      notifications: true,
    });
    const a = deployment.region('a');
    const b = deployment.region('b');
    say(`region a: ${a.url}   region b: ${b.url}`);

    const image = createOciImage(path.join(work, 'image'), {
      tag: 'v1',
      layerSizes: [256 * 1024, 1024 * 1024],
    });
    const [, pushMs] = await timed(() => skopeoPush(image.dir, 'v1', { host: a.host, repository: REPO }));
    say(`pushed ${REPO}:v1 to region a in ${pushMs} ms (manifest ${image.manifestDigest.slice(0, 19)}…)`);

    try {
      await skopeoPull({ host: b.host, repository: REPO, reference: 'v1' }, path.join(work, 'pull-1'));
      say('pull from region b WITHOUT geosync: unexpectedly succeeded');
      return 1;
    } catch (err) {
      const why = /manifest unknown|MANIFEST_UNKNOWN|not found/i.test(String(err))
        ? 'manifest unknown'
        : String(err);
      say(`pull from region b WITHOUT geosync: FAILED (${why}): replication has not copied it yet`);
    }

    await Promise.all([a.startGeosync(), b.startGeosync()]);
    say('geosync started beside each Envoy');

    const [, pullMs] = await timed(() =>
      skopeoPull({ host: b.host, repository: REPO, reference: 'v1' }, path.join(work, 'pull-2')),
    );
    const pulled = existsSync(path.join(work, 'pull-2', 'blobs', 'sha256', image.manifestDigest.slice(7)));
    say(
      `pull from region b WITH geosync: OK in ${pullMs} ms, manifest digest ${pulled ? 'matches' : 'DIFFERS'}`,
    );

    // b's own registry, asked directly (not through Envoy, so not through geosync), on any store.
    const inB = (await fetch(`${b.registry.url}/v2/${REPO}/tags/list`)).status !== 404;
    say(
      inB
        ? "region b's storage has the image (unexpected: geosync never writes locally)"
        : `region b's storage still has no ${REPO}: nothing was written locally; copying it is replication's job`,
    );
    const redirects = await b.envoy.stat(ENVOY_STAT.redirectsFollowed);
    const metrics = await (await fetch(`${b.adminUrl}/metrics`)).text();
    const rescued = metrics
      .split('\n')
      .filter((l) => l.startsWith('geosync_pulls_rescued_total'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    say(
      `Envoy b followed ${redirects} internal redirects to region a; geosync b rescued ${rescued} requests`,
    );

    const [, replicateMs] = await timed(() => runReplicator(a.host, b.registry.host, [REPO]));
    const pushes = await (b.sink as NonNullable<typeof b.sink>).waitFor(
      (e) => isManifestPush(e, REPO),
      1,
      20_000,
    );
    say(
      `replicated ${REPO} to region b in ${replicateMs} ms (skopeo sync through b's registry API, deploy/replication/replicate.sh); ` +
        `b's webhooks saw ${pushes.length} manifest push`,
    );
    const report = await waitForArrival(b.adminUrl);
    say(`staleness report of region b (geosync staleness --admin ${b.adminUrl}):\n`);
    process.stdout.write(formatStalenessTable(report));
    return pulled && !inB && redirects > 0 && report.pairs[0]?.replicationLag.count === 1 ? 0 : 1;
  } finally {
    say('cleaning up');
    await cleanup();
  }
}

/** geosync works out an arrival's origin after the registry's delivery: poll until it is in. */
async function waitForArrival(admin: string): Promise<StalenessReport> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const report = (await (await fetch(`${admin}/staleness`)).json()) as StalenessReport;
    if (report.pairs.some((p) => p.replicationLag.count > 0) || Date.now() > deadline) return report;
    await new Promise((r) => setTimeout(r, 100));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
