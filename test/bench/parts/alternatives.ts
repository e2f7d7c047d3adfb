/**
 * Part 4, versus what users pick instead, on the same stack and the same image, with replication
 * (an S3 copy of the repository's keys and blobs, as a replication job makes it) landing L seconds
 * after each push to A:
 *
 * - a pull-through cache in B: CNCF distribution with `proxy.remoteurl` pointing at A (through
 *   the same WAN link), on its own bucket in B's object store;
 * - a pipeline retry loop against B without geosync (B's Envoy alone): pull, sleep S, retry;
 * - geosync: pull from B's Envoy.
 *
 * Timeline 1, a new image: all three start pulling the moment the push to A ends; measured: time
 * to the first successful pull, attempts, bytes written into B's storage. Timeline 2, a tag
 * re-pointed in A to a new image: each approach is polled (manifest GET by tag) until it serves
 * the new digest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOciImage, type OciImage } from '../../support/oci/oci-image';
import { sleep } from '../../support/process';
import { startRegistry } from '../../support/registries/registry';
import { skopeoPush } from '../../support/clients/skopeo';
import { elapsedSeconds, type BenchContext } from '../context';
import { bytes, seconds, times, type PartResult } from '../results';
import { startEnvoyAlone } from '../stack/envoy-alone';
import type { S3Stack } from '../stack/s3-stack';
import { bucketBytes, replicateS3 } from '../tools/observe';
import { timedPull } from '../tools/pull';
import { ratio } from '../tools/stats';
import { firstSuccess, watchTag, type FirstSuccess } from './alternatives-clients';

const REPOSITORY = 'bench/alternatives';
const CACHE_BUCKET = 'region-b-cache';

export async function alternatives(ctx: BenchContext, stack: S3Stack): Promise<PartResult> {
  const started = performance.now();
  const s = ctx.scale.alternatives;
  const { d, a, b, s3 } = stack;
  if (!d.swift || !b.bucket) throw new Error('part 4 needs the S3 stack');
  stack.setRttMs(s.rttMs);
  const dir = fs.mkdtempSync(path.join(ctx.tmp, 'alternatives-'));
  await d.swift.createBucket(CACHE_BUCKET);
  const cache = await startRegistry({
    storage: { type: 's3', s3: d.swift, bucket: CACHE_BUCKET },
    proxyRemoteUrl: a.crossRegion.url,
  });
  const alone = await startEnvoyAlone(b, dir);
  try {
    const approaches = [
      { name: 'pull-through cache in B (distribution `proxy.remoteurl` → A)', host: cache.host },
      {
        name: `retry loop against B without geosync (pull, sleep ${s.retrySleepSeconds} s, retry)`,
        host: alone.host,
      },
      { name: "geosync (pull from B's Envoy)", host: b.host },
    ];
    const deadlineMs = (s.lagSeconds + 60) * 1000;
    const replicate = async (image: OciImage, t0: number) => {
      await sleep(Math.max(0, s.lagSeconds * 1000 - (performance.now() - t0)));
      const bucketBefore = await bucketBytes(s3, b.bucket as string);
      const at = performance.now() - t0;
      const copied = await replicateS3(s3, a, b, REPOSITORY, [
        image.manifestDigest,
        image.configDigest,
        ...image.layerDigests,
      ]);
      return { atMs: at, doneMs: performance.now() - t0, copied, bucketBefore };
    };

    // Timeline 1: a new image.
    const v1 = createOciImage(path.join(dir, 'v1'), { tag: 'v1', layerSizes: s.layerSizes });
    const bucketAtPush = await bucketBytes(s3, b.bucket);
    await skopeoPush(v1.dir, 'v1', { host: a.host, repository: REPOSITORY });
    const t0 = performance.now();
    const replication1 = replicate(v1, t0);
    const src = { repository: REPOSITORY, reference: 'v1' };
    const first: FirstSuccess[] = await Promise.all(
      approaches.map((x) =>
        firstSuccess(
          () => timedPull(x.host, src, v1.manifestDigest, dir),
          t0,
          s.retrySleepSeconds * 1000,
          deadlineMs,
        ),
      ),
    );
    const r1 = await replication1;
    const cacheBytes = await settledBucketBytes(stack, CACHE_BUCKET);
    const bWrittenBeforeReplication = r1.bucketBefore - bucketAtPush;

    // Timeline 2: the tag re-pointed in A to new content.
    const v2 = createOciImage(path.join(dir, 'v2'), { tag: 'v1', layerSizes: s.layerSizes });
    await skopeoPush(v2.dir, 'v1', { host: a.host, repository: REPOSITORY });
    const t1 = performance.now();
    const replication2 = replicate(v2, t1);
    const watched = await Promise.all(
      approaches.map((x) => watchTag(x.host, REPOSITORY, 'v1', v2.manifestDigest, t1, deadlineMs)),
    );
    const r2 = await replication2;

    const geo = first[2] as FirstSuccess;
    const rows = approaches.map((x, i) => {
      const f = first[i] as FirstSuccess;
      const written = i === 0 ? cacheBytes : bWrittenBeforeReplication;
      const w = watched[i] as (typeof watched)[number];
      return {
        approach: x.name,
        firstSuccessMs: f.ms,
        attempts: f.attempts,
        bytesWritten: written,
        afterRepointServes:
          w.first === v2.manifestDigest
            ? 'new'
            : w.first === v1.manifestDigest
              ? 'old (stale)'
              : String(w.first),
        newDigestAfterMs: w.freshMs,
      };
    });
    ctx.log(`  ${rows.map((r) => `${r.approach}: ${seconds(r.firstSuccessMs)}`).join('; ')}`);

    return {
      part: 4,
      title: `Versus the alternatives, replication lagging ${s.lagSeconds} s`,
      method:
        `An image of ${s.layerSizes.map((x) => bytes(x)).join(' + ')} is pushed to A; replication copies it ` +
        `into B's bucket ${s.lagSeconds} s later (S3 CopyObject of blobs, then links). The three ` +
        'approaches start pulling (skopeo, whole image) as the push ends, each retrying after ' +
        `${s.retrySleepSeconds} s when a pull fails. Then the tag is re-pointed in A to a new image and ` +
        'each approach is asked for the tag every 250 ms until it serves the new digest (replication ' +
        `again ${s.lagSeconds} s later). RTT between regions ${s.rttMs} ms.`,
      table: {
        header: [
          'approach',
          'first successful pull',
          'ratio to geosync',
          'attempts',
          "bytes written into B's storage",
          'right after re-pointing the tag',
          'serves the new digest after',
        ],
        rows: rows.map((r) => [
          r.approach,
          seconds(r.firstSuccessMs),
          times(ratio(r.firstSuccessMs, geo.ms)),
          String(r.attempts),
          bytes(r.bytesWritten),
          r.afterRepointServes,
          seconds(r.newDigestAfterMs),
        ]),
      },
      targets: [],
      notes: [
        `Replication copied ${bytes(r1.copied)} into B ${seconds(r1.atMs)} after the push ` +
          `(done at ${seconds(r1.doneMs)}), and ${bytes(r2.copied)} after re-pointing: every approach but ` +
          'the cache relies on it to store the image in B; the cache writes its own copy (the bytes above) ' +
          'into its bucket in B whether or not B is also a replica.',
        "geosync and the retry loop write nothing into B's storage before replication (B's bucket grew by " +
          `${bytes(bWrittenBeforeReplication)} between the push and the replication).`,
        "The pull-through cache answers a tag by asking A each time (distribution's proxy tag service), " +
          'so a re-pointed tag is fresh at once while A is reachable, at the cost of a cross-region round ' +
          'trip on every tag pull; it cannot take pushes (B stops being a registry of its own). geosync ' +
          'and plain B serve the tag B holds until replication moves it (README "Staleness bound").',
      ],
      data: { lagSeconds: s.lagSeconds, retrySleepSeconds: s.retrySleepSeconds, rows, replication: [r1, r2] },
      panels: [],
      seconds: elapsedSeconds(started),
    };
  } finally {
    await alone.envoy.close().catch(() => {});
    await cache.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The cache stores what it proxied while streaming it: wait until its bucket stops growing. */
async function settledBucketBytes(stack: S3Stack, bucket: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    const now = await bucketBytes(stack.s3, bucket);
    if (now === last) return now;
    last = now;
    await sleep(500);
  }
  return last;
}
