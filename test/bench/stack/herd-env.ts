/**
 * Where part 3's herds run, and how each place counts geosync's storage requests and replicates.
 *
 * - Swift S3 (the stack of parts 2-4): requests counted per key in Swift's access log. One Swift
 *   proxy worker serves all three regions' buckets on the same 2 cores as everything else; it
 *   answers a few hundred requests a second, and a herd's own registry traffic (each request a 404
 *   in B's bucket, then a read in A's) saturates it beyond about a hundred clients, so only the
 *   smallest herd runs here.
 * - Filesystem: the same three regions with the registries on the filesystem driver (geosync
 *   probes the sibling's directory), where storage keeps up with the herd and what is measured is
 *   geosync and Envoy, every geosync setting at its default (lookupTimeoutMs 150 ms, Envoy's ext_proc
 *   message_timeout 2 s). geosync's own probe counter (geosync_probes_total) counts its storage
 *   requests, per lookup target (a manifest or a blob, whose keys one probe covers). Every Envoy
 *   runs the generated bootstrap untuned, as a new user's would: a herd that only passes with
 *   tuned circuit breakers would hide the gap this part exists to show.
 *
 * Both places also run region d and the retrying Envoy (fronts.ts), so each herd runs through
 * geosync with storage lookups (B), with registry-API lookups (D) and through Envoy's retry alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startDeployment, type Deployment, type RegionDeployment } from '../../support/stacks/deployment';
import { num } from '../results';
import { geosyncSnapshot, replicateS3 } from '../tools/observe';
import { startFronts, TWIN_OPTIONS, type Fronts } from './fronts';
import type { S3Stack } from './s3-stack';
import { REGISTRY_V2_ROOT } from '../../../src/storage/keys';
import type { UpstreamProtocol } from '../../../src/config/types';

export interface StorageCount {
  /** The most requests one key (S3) or the mean per target (filesystem) got; the target is 1. */
  readonly worst: number;
  /** geosync's storage requests in all (S3), or its probes (filesystem). */
  readonly requests: number;
  readonly text: string;
}

export interface HerdEnv {
  readonly storage: 'Swift S3' | 'filesystem';
  readonly d: Deployment;
  readonly a: RegionDeployment;
  readonly b: RegionDeployment;
  readonly c: RegionDeployment;
  readonly fronts: Fronts;
  readonly sizes: readonly number[];
  /** The generated clusters' circuit breakers, as the table states them. */
  readonly breakers: string;
  setRttMs(ms: number): void;
  /** Starts counting; the result reads geosync B's storage requests per sibling since then. */
  countStorage(targets: number): Promise<() => Promise<Record<'a' | 'c', StorageCount>>>;
  replicate(repository: string, digests: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export function s3HerdEnv(stack: S3Stack, sizes: readonly number[]): HerdEnv {
  if (!stack.fronts) throw new Error('the herd needs the stack started with its fronts');
  return {
    storage: 'Swift S3',
    d: stack.d,
    a: stack.a,
    b: stack.b,
    c: stack.c,
    fronts: stack.fronts,
    sizes,
    breakers: 'defaults',
    setRttMs: (ms) => stack.setRttMs(ms),
    async countStorage() {
      stack.storageLog.reset();
      return async () => {
        const count = (bucket: string): StorageCount => {
          const p = stack.storageLog.probesOf(bucket);
          const drops = stack.storageLog.drops();
          return {
            worst: p.maxPerKey,
            requests: p.requests,
            text:
              `${p.maxPerKey} per key at most (${p.requests} for ${p.keys} keys)` +
              (drops ? `, ${drops} log datagrams lost` : ''),
          };
        };
        return { a: count('region-a'), c: count('region-c') };
      };
    },
    replicate: async (repository, digests) => {
      await replicateS3(stack.s3, stack.a, stack.b, repository, digests);
    },
    stop: async () => {}, // the stack belongs to run.ts
  };
}

export async function startFsHerdEnv(
  sizes: readonly number[],
  siblingProtocol?: UpstreamProtocol,
  workers?: number,
): Promise<HerdEnv> {
  const d = await startDeployment({
    ...TWIN_OPTIONS,
    storage: 'filesystem',
    ...(siblingProtocol ? { siblingProtocol } : {}),
    ...(workers === undefined ? {} : { workers }),
  });
  let fronts: Fronts;
  try {
    fronts = await startFronts(d, d.dir);
  } catch (err) {
    await d.stop();
    throw err;
  }
  const [a, b, c] = [d.region('a'), d.region('b'), d.region('c')];
  return {
    storage: 'filesystem',
    d,
    a,
    b,
    c,
    fronts,
    sizes,
    breakers: siblingProtocol ? `defaults, sibling protocol ${siblingProtocol}` : 'defaults',
    setRttMs(ms) {
      for (const r of d.regions) r.crossRegion.setDelayMs(ms / 2);
    },
    async countStorage(targets) {
      const before = await geosyncSnapshot(b, ['a', 'c']);
      return async () => {
        const after = await geosyncSnapshot(b, ['a', 'c']);
        const count = (r: 'a' | 'c'): StorageCount => {
          const probes = (after.probes[r] ?? 0) - (before.probes[r] ?? 0);
          return {
            worst: probes / targets,
            requests: probes,
            text: `${num(probes / targets)} per target (${probes} for ${targets} targets)`,
          };
        };
        return { a: count('a'), c: count('c') };
      };
    },
    replicate: async (repository, digests) => replicateFs(a, b, repository, digests),
    stop: () => fronts.stop().finally(() => d.stop()),
  };
}

/** Replication between two filesystem regions: blob data first, then the repository's links. */
function replicateFs(
  from: RegionDeployment,
  to: RegionDeployment,
  repository: string,
  digests: readonly string[],
) {
  if (!from.storageRoot || !to.storageRoot) throw new Error('replicateFs needs two filesystem regions');
  const copy = (rel: string) => {
    const src = path.join(from.storageRoot as string, rel);
    const dst = path.join(to.storageRoot as string, rel);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.cpSync(src, dst, { recursive: true });
  };
  for (const digest of digests) {
    const hex = digest.split(':')[1] as string;
    copy(`${REGISTRY_V2_ROOT}/blobs/sha256/${hex.slice(0, 2)}/${hex}`);
  }
  copy(`${REGISTRY_V2_ROOT}/repositories/${repository}`);
}
