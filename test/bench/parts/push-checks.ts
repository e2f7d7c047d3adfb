/**
 * Part 3's pushes: what each way of reaching the siblings (stack/fronts.ts) does to a push into B,
 * counted at the siblings' registries. A push asks the registry which blobs it already has (a HEAD
 * per blob) and uploads only the others; the answer must be the local registry's own.
 *
 * - A new image (no region holds it): the pusher's existence checks are local 404s; Envoy's retry
 *   sends each to a and then c before the upload starts, geosync sends none of them anywhere.
 * - An image a already holds under the same name (pushed there first, as a pipeline that pushes to
 *   every region does, or a rebuild of the same layers): Envoy's retry answers the blob checks from
 *   a with 200, the pusher skips those uploads, and B's registry then refuses the manifest
 *   (`MANIFEST_BLOB_UNKNOWN`): the push fails. geosync never rescues a blob HEAD
 *   (docs/pushes.md), so the push lands.
 */
import path from 'node:path';
import { createOciImage } from '../../support/oci/oci-image';
import { sleep } from '../../support/process';
import { skopeoPush } from '../../support/clients/skopeo';
import type { BenchContext } from '../context';
import { LOOKUP_KINDS, type LookupKind } from '../stack/fronts';
import type { HerdEnv } from '../stack/herd-env';
import { countRegistryRequests, type RegistryRequests } from '../tools/registry-requests';

export interface PushCheck {
  readonly storage: HerdEnv['storage'];
  readonly kind: LookupKind;
  readonly image: 'new' | 'held in a';
  /** `landed`, or skopeo's error. */
  readonly outcome: string;
  readonly ms: number;
  /** What reached the siblings' registries during the push. */
  readonly a: RegistryRequests;
  readonly c: RegistryRequests;
}

export async function pushChecks(ctx: BenchContext, env: HerdEnv): Promise<PushCheck[]> {
  const out: PushCheck[] = [];
  for (const kind of LOOKUP_KINDS) {
    const front = env.fronts.of(kind);
    for (const image of ['new', 'held in a'] as const) {
      const repository = `bench/push-${image === 'new' ? 'new' : 'held'}-${kind}`;
      const built = createOciImage(
        path.join(ctx.tmp, `push-${env.storage.replace(/\W/g, '')}-${kind}-${out.length}`),
        {
          tag: 'v1',
          layerSizes: ctx.scale.herd.layerSizes,
        },
      );
      if (image === 'held in a') await skopeoPush(built.dir, 'v1', { host: env.a.host, repository });
      const a = countRegistryRequests(env.a.registry.logFile);
      const c = countRegistryRequests(env.c.registry.logFile);
      const started = performance.now();
      let outcome = 'landed';
      try {
        await skopeoPush(built.dir, 'v1', { host: front.host, repository });
        // Landed means the local registry now serves the manifest itself.
        const res = await fetch(`${front.local.registry.url}/v2/${repository}/manifests/v1`, {
          method: 'HEAD',
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status !== 200) outcome = `exit 0, but the local registry answers ${res.status}`;
      } catch (err) {
        const m = (err as Error).message;
        outcome = /manifest blob unknown|MANIFEST_BLOB_UNKNOWN/i.test(m)
          ? 'failed: MANIFEST_BLOB_UNKNOWN'
          : `failed: ${
              m
                .split('\n')
                .find((l) => /error|fatal/i.test(l))
                ?.slice(0, 160) ?? 'skopeo failed'
            }`;
      }
      const ms = performance.now() - started;
      await sleep(300); // the registries log a request after answering it
      out.push({ storage: env.storage, kind, image, outcome, ms, a: a(), c: c() });
      ctx.log(`  ${env.storage} push of a ${image} image through ${kind}: ${outcome}, ${Math.round(ms)} ms`);
    }
  }
  return out;
}
