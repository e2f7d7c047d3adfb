/**
 * A geo-replicated registry deployment on one machine, as an operator would run it: per region a
 * real distribution registry on its own storage (a Swift S3 bucket, or a directory for the
 * embedded default), a real `geosync serve` process, and an Envoy (the simulator, or a real Envoy
 * when one is on PATH) started from exactly the bootstrap `geosync envoy-config` prints.
 *
 * Each region gets its own loopback address (127.0.10.N), so that Envoy's virtual hosts tell the
 * regions apart by host as they would in production. Cross-region latency can be injected: Envoy's
 * sibling clusters wait `crossRegionLatencyMs` before each request, and geosync reaches other
 * regions' S3 endpoints through a TCP proxy that delays each direction by the same amount. The
 * proxy also lets a test take one region's storage endpoint down.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEnvoy, type EnvoyHandle } from '../envoy-sim';
import { runCli, startServe, waitForStatus, type ServeProcess } from './geosync-cli';
import { freePort } from './ports';
import { startRegistry, type Registry } from './registry';
import { startSwift, type SwiftS3 } from './swift';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

export interface DeploymentOptions {
  readonly regions: readonly string[];
  /** `filesystem` is the embedded default (no S3 needed); `s3` uses Swift with one bucket per region. */
  readonly storage: 'filesystem' | 's3';
  /** htpasswd basic auth on every registry (same user everywhere). */
  readonly auth?: { readonly username: string; readonly password: string };
  /** One-way delay of each cross-region hop (Envoy → sibling, geosync → sibling storage). */
  readonly crossRegionLatencyMs?: number;
  readonly envoyVersion?: '1.31' | '1.37';
  readonly lookupTimeoutMs?: number;
  /** geosync's periodic health check of sibling registries (through their Envoys). */
  readonly healthCheck?: boolean;
  /** Also started with the deployment; default true. */
  readonly withGeosync?: boolean;
}

export interface RegionDeployment {
  readonly name: string;
  /** Base URL of the region's Envoy: what clients use and what siblings redirect to. */
  readonly url: string;
  /** `host:port` of the region's Envoy, for skopeo's `docker://` references. */
  readonly host: string;
  readonly registry: Registry;
  /** Where the registry keeps content: a bucket or a directory. */
  readonly bucket?: string;
  readonly storageRoot?: string;
  readonly configFile: string;
  readonly adminUrl: string;
  readonly envoy: EnvoyHandle;
  /** The region's S3 endpoint as other regions' geosync see it (s3 mode). */
  readonly s3Proxy?: TcpProxy;
  geosync(): ServeProcess | undefined;
  startGeosync(): Promise<void>;
  /** SIGTERM, then wait for the exit. */
  stopGeosync(): Promise<void>;
}

export interface Deployment {
  readonly swift?: SwiftS3;
  readonly regions: readonly RegionDeployment[];
  region(name: string): RegionDeployment;
  readonly dir: string;
  stop(): Promise<void>;
}

const GEOSYNC_START_TIMEOUT_MS = 15_000;

export async function startDeployment(opts: DeploymentOptions): Promise<Deployment> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'geosync-deploy-'));
  const latency = opts.crossRegionLatencyMs ?? 0;
  const cleanups: (() => Promise<void>)[] = [];
  const regions: RegionDeployment[] = [];
  let swift: SwiftS3 | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      for (const c of cleanups.reverse()) await c().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    if (opts.storage === 's3') {
      swift = await startSwift();
      cleanups.push(() => (swift as SwiftS3).stop());
    }
    // Everything a region's configuration names must be known before any geosync starts.
    const plans = [];
    for (const [i, name] of opts.regions.entries()) {
      const ip = `127.0.10.${i + 1}`;
      const envoyPort = await freePort();
      plans.push({ name, ip, envoyPort, url: `http://${ip}:${envoyPort}` });
    }
    const storageOf = new Map<string, { yaml: string; bucket?: string; root?: string; proxy?: TcpProxy }>();
    const registries = new Map<string, Registry>();
    for (const p of plans) {
      if (swift) {
        const bucket = `region-${p.name}`;
        await swift.createBucket(bucket);
        const endpoint = new URL(swift.endpoint);
        const proxy = await startTcpProxy({
          target: { host: endpoint.hostname, port: Number(endpoint.port) },
          delayMs: latency,
        });
        cleanups.push(() => proxy.close());
        storageOf.set(p.name, {
          bucket,
          proxy,
          yaml: JSON.stringify({
            type: 's3',
            bucket,
            endpoint: proxy.url,
            region: swift.region,
            forcePathStyle: true,
            accessKeyId: swift.accessKeyId,
            secretAccessKey: swift.secretAccessKey,
          }),
        });
        const registry = await startRegistry({
          storage: { type: 's3', s3: swift, bucket },
          ...(opts.auth ? { auth: opts.auth } : {}),
        });
        cleanups.push(() => registry.stop());
        registries.set(p.name, registry);
      } else {
        const root = path.join(dir, p.name, 'storage');
        mkdirSync(root, { recursive: true });
        storageOf.set(p.name, { root, yaml: JSON.stringify({ type: 'filesystem', root }) });
        const registry = await startRegistry({
          storage: { type: 'filesystem', root },
          ...(opts.auth ? { auth: opts.auth } : {}),
        });
        cleanups.push(() => registry.stop());
        registries.set(p.name, registry);
      }
    }

    for (const p of plans) {
      const registry = registries.get(p.name) as Registry;
      const [grpcPort, adminPort, envoyAdminPort] = [await freePort(), await freePort(), await freePort()];
      const configFile = path.join(dir, `geosync-${p.name}.yaml`);
      writeFileSync(
        configFile,
        [
          `region: ${p.name}`,
          `listen: { grpc: "127.0.0.1:${grpcPort}", admin: "127.0.0.1:${adminPort}" }`,
          `lookupTimeoutMs: ${opts.lookupTimeoutMs ?? 150}`,
          'drainMs: 0',
          'regions:',
          ...plans.map(
            (q) => `  - { name: ${q.name}, url: "${q.url}", storage: ${storageOf.get(q.name)?.yaml} }`,
          ),
          'locate:',
          `  healthCheck: { enabled: ${opts.healthCheck ?? false}, intervalMs: 200, timeoutMs: 500, unhealthyThreshold: 1 }`,
          'telemetry: { logLevel: info }',
          'envoy:',
          `  version: "${opts.envoyVersion ?? '1.31'}"`,
          `  listener: { address: ${p.ip}, port: ${p.envoyPort} }`,
          `  admin: { address: 127.0.0.1, port: ${envoyAdminPort} }`,
          '  ignorePortInHostMatching: true',
          `  localRegistry: { address: 127.0.0.1, port: ${registry.port} }`,
          "  accessLogPath: ''",
          '',
        ].join('\n'),
      );
      const generated = await runCli(['envoy-config', '--config', configFile]);
      if (generated.code !== 0) throw new Error(`envoy-config for ${p.name} failed:\n${generated.stderr}`);
      writeFileSync(path.join(dir, `envoy-${p.name}.yaml`), generated.stdout);
      const delays = Object.fromEntries(
        plans.filter((q) => q.name !== p.name).map((q) => [`sibling_${q.name}`, latency]),
      );
      const envoy = await startEnvoy(generated.stdout, {
        ...(opts.envoyVersion ? { envoyVersion: opts.envoyVersion } : {}),
        upstreamDelayMs: delays,
      });
      cleanups.push(() => envoy.close());

      let serve: ServeProcess | undefined;
      const adminUrl = `http://127.0.0.1:${adminPort}`;
      const stopGeosync = async () => {
        const s = serve;
        serve = undefined;
        if (!s || s.child.exitCode !== null) return;
        s.child.kill('SIGTERM');
        const killer = setTimeout(() => s.child.kill('SIGKILL'), 5_000);
        await s.exited;
        clearTimeout(killer);
      };
      const startGeosync = async () => {
        if (serve) return;
        const started = startServe(configFile);
        serve = started;
        try {
          await waitForStatus(`${adminUrl}/readyz`, 200, GEOSYNC_START_TIMEOUT_MS);
        } catch (err) {
          throw new Error(
            `geosync ${p.name} did not become ready: ${(err as Error).message}\n${started.output()}`,
          );
        }
      };
      cleanups.push(stopGeosync);
      const storage = storageOf.get(p.name);
      regions.push({
        name: p.name,
        url: p.url,
        host: `${p.ip}:${p.envoyPort}`,
        registry,
        ...(storage?.bucket ? { bucket: storage.bucket } : {}),
        ...(storage?.root ? { storageRoot: storage.root } : {}),
        ...(storage?.proxy ? { s3Proxy: storage.proxy } : {}),
        configFile,
        adminUrl,
        envoy,
        geosync: () => serve,
        startGeosync,
        stopGeosync,
      });
    }
    if (opts.withGeosync ?? true) await Promise.all(regions.map((r) => r.startGeosync()));
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    ...(swift ? { swift } : {}),
    regions,
    dir,
    region(name: string) {
      const r = regions.find((x) => x.name === name);
      if (!r) throw new Error(`no region ${name}`);
      return r;
    },
    stop,
  };
}
