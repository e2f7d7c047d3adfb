/**
 * Region A as a real registry on the filesystem driver with an image pushed by skopeo, and
 * `geosync serve` (a real process) for region B with an Envoy-like ext_proc client: the fixture of
 * the tests that drive the built CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExtProcTestClient } from '../clients/extproc-client';
import { startServe, waitForStatus, type ServeProcess } from '../clients/geosync-cli';
import { createOciImage, type OciImage } from '../oci/oci-image';
import { freePorts } from '../net/ports';
import { startRegistry, type Registry } from '../registries/registry';
import { skopeoPush } from '../clients/skopeo';
import { startBlackhole, type Blackhole } from '../net/tcp-blackhole';

export interface ServeFixture {
  readonly registryA: Registry;
  /** geosync B's gRPC address (`127.0.0.1:PORT`). */
  readonly grpc: string;
  readonly image: OciImage;
  readonly serve: ServeProcess;
  readonly client: ExtProcTestClient;
  /** geosync B's admin base URL. */
  readonly admin: string;
  stop(): Promise<void>;
}

export async function startServeFixture(opts: {
  drainMs: number;
  layerSizes: number[];
  /** Adds a region "c" whose S3 endpoint accepts connections and never answers. */
  silentRegion?: boolean;
  /** geosync's lookup deadline (default 150 ms, geosync's own default). */
  lookupTimeoutMs?: number;
  /** `listen.workers` (default: geosync's own, one per core). */
  workers?: number;
}): Promise<ServeFixture> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'geosync-serve-'));
  const registryA = await startRegistry({ storage: { type: 'filesystem', root: path.join(tmp, 'a') } });
  let serve: ServeProcess | undefined;
  let client: ExtProcTestClient | undefined;
  let blackhole: Blackhole | undefined;
  const stop = async () => {
    await blackhole?.close();
    client?.close();
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
    await registryA.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const image = createOciImage(path.join(tmp, 'layout'), { tag: 'v1', layerSizes: opts.layerSizes });
    await skopeoPush(image.dir, 'v1', { host: registryA.host, repository: 'team/app' });
    const [grpcPort, adminPort] = await freePorts(2);
    if (opts.silentRegion) blackhole = await startBlackhole();
    const silent = blackhole
      ? `  - { name: c, url: "http://registry-c.invalid:5000", storage: { type: s3, bucket: c, endpoint: "${blackhole.url}", forcePathStyle: true, accessKeyId: k, secretAccessKey: s, requestTimeoutMs: 60000 } }\n`
      : '';
    const admin = `http://127.0.0.1:${adminPort}`;
    const config = path.join(tmp, 'geosync-b.yaml');
    writeFileSync(
      config,
      `region: b
listen: { grpc: "127.0.0.1:${grpcPort}", admin: "127.0.0.1:${adminPort}"${opts.workers === undefined ? '' : `, workers: ${opts.workers}`} }
lookupTimeoutMs: ${opts.lookupTimeoutMs ?? 150}
drainMs: ${opts.drainMs}
regions:
  - { name: a, url: "${registryA.url}", storage: { type: filesystem, root: "${path.join(tmp, 'a')}" } }
  - { name: b, url: "http://registry-b.invalid:5000", storage: { type: filesystem, root: "${path.join(tmp, 'b')}" } }
${silent}`,
    );
    serve = startServe(config);
    // A bound for a process that never becomes ready, not a speed requirement.
    await waitForStatus(`${admin}/readyz`, 200, 60_000);
    client = new ExtProcTestClient(`127.0.0.1:${grpcPort}`);
    return { registryA, grpc: `127.0.0.1:${grpcPort}`, image, serve, client, admin, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
