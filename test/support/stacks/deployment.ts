/**
 * A geo-replicated registry deployment on one machine, as an operator would run it: per region a
 * real distribution registry on its own storage (a Swift S3 bucket, or a directory for the
 * embedded default), a real `geosync serve` process, and a real Envoy started from exactly the
 * bootstrap `geosync envoy-config` prints.
 *
 * Each region gets its own loopback address (127.10.W.N, W the jest worker), so that Envoy's virtual hosts tell the
 * regions apart by host as they would in production. Between regions every connection crosses a
 * TCP proxy that delays each direction by `crossRegionLatencyMs`: a region's URL in the geosync
 * configuration (what siblings' Envoys redirect to and connect to) is its proxy in front of its
 * Envoy, and geosync reaches other regions' S3 endpoints through a proxy too. Clients use the
 * region's Envoy directly (`url`). The proxies also let a test take a region's Envoy or storage
 * endpoint down as its siblings see it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEnvoy, type EnvoyProcess, type EnvoyRelease } from '../envoy/envoy';
import { startNotificationSink, type NotificationSink } from './notification-sink';
import { runEnvoyConfig, startServe, waitForStatus, type ServeProcess } from '../clients/geosync-cli';
import { freePort } from '../net/ports';
import { startAzurite, type Azurite } from '../storage/azurite';
import { startFakeGcs, type FakeGcs } from '../storage/fake-gcs';
import { startCraneRegistry, type CraneRegistry } from '../registries/crane-registry';
import { startRegistry, type Credentials, type Registry, type RegistryStorage } from '../registries/registry';
import { testSwift } from '../storage/shared-swift';
import type { SwiftS3 } from '../storage/swift';
import { startTcpProxy, type TcpProxy } from '../net/tcp-proxy';
import type { TokenServer } from '../registries/token-server';
import type { UpstreamProtocol } from '../../../src/config/types';

/**
 * geosync's lookup deadline for the benchmark's deployments on this shared test machine (the
 * default is 150 ms; the end-to-end tests run geosync's defaults, stacks/use-deployment.ts). Here
 * three test files run at once on 2 cores, each with its registries, geosyncs and Envoys, and
 * Swift's proxy is shared by every bucket of the run: a HeadObject that takes 10-30 ms when idle takes
 * 150-400 ms while another file pushes layers, and the first probe of a fresh geosync process pays
 * the AWS SDK's lazy initialisation (~40 ms idle, several times that under load). With 150 ms,
 * first pulls failed now and then (a 404 after a lookup `timeout`) for reasons that belong to the
 * test machine. A lookup still returns as soon as it has its answer; only a region that never
 * answers costs the deadline.
 */
export const LOADED_LOOKUP_TIMEOUT_MS = 1000;

export interface DeploymentOptions {
  readonly regions: readonly string[];
  /**
   * Every region's storage: `filesystem` (no server), `s3` (Swift, one bucket per region), `azure`
   * (Azurite, one container per region) or `gcs` (fake-gcs-server, one bucket per region); or one
   * per region, by name. azure and gcs run distribution v3 registries (its drivers).
   */
  readonly storage: Backend | Readonly<Record<string, Backend>>;
  /** distribution 2.8 (Debian) or 3.x (the default). */
  readonly registryVersion?: 2 | 3;
  /** Every registry accepts indexes whose children it lacks (registry.ts, `sparseIndexes`). */
  readonly sparseIndexes?: boolean;
  /** htpasswd basic auth on every registry (the same users everywhere), or on `authRegions` only. */
  readonly auth?: Credentials | readonly Credentials[];
  /** `pushCheckBasicUsers` of every geosync (absent: geosync's default, none). */
  readonly pushCheckBasicUsers?: readonly string[];
  /** `telemetry.logLevel` of every geosync (default `info`). */
  readonly logLevel?: 'debug' | 'info';
  /** The regions whose registries have `auth` (default: every region). */
  readonly authRegions?: readonly string[];
  /**
   * Token authentication on every registry with this server's tokens: each region's registry sits
   * behind a front that answers `/token` (as Harbor's nginx does), and sends clients to its own
   * Envoy's `/token` (token-server.ts says why).
   */
  readonly tokenAuth?: TokenServer;
  /** One-way delay of each cross-region hop (Envoy → sibling, geosync → sibling storage). */
  readonly crossRegionLatencyMs?: number;
  /** Which pinned Envoy release every region runs (scripts/envoy-versions); default newest. */
  readonly envoyRelease?: EnvoyRelease;
  /** `lookupTimeoutMs` of every geosync (absent: geosync's default). */
  readonly lookupTimeoutMs?: number;
  /** `listen.workers` of every geosync (default: geosync's own, one per core). */
  readonly workers?: number;
  /** geosync's periodic health check of sibling registries (through their Envoys). */
  readonly healthCheck?: boolean;
  /** Also started with the deployment; default true. */
  readonly withGeosync?: boolean;
  /** `freshness.tagMaxStalenessMs` per region name (absent: off in that region). */
  readonly tagMaxStalenessMs?: Readonly<Record<string, number>>;
  /** `freshness.tagListMaxStalenessMs` per region name (absent: the default in that region). */
  readonly tagListMaxStalenessMs?: Readonly<Record<string, number>>;
  /**
   * Each registry sends its events to its region's geosync (notifications enabled, shared secret
   * from the environment) and to a sink that records every event (`RegionDeployment.sink`).
   */
  readonly notifications?: boolean;
  /** s3 mode: Swift's access log lines of this deployment's account go to this UDP port (testSwift). */
  readonly swiftAccessLogUdpPort?: number;
  /** s3 mode: a Swift of its own, not an account of the run's (shared-swift.ts `own`). */
  readonly ownSwift?: boolean;
  /**
   * The `requestTimeoutMs` of a region's S3 storage (what one request to it may take; geosync's
   * default is 1 s), in every configuration that names it.
   */
  readonly s3RequestTimeoutMs?: Readonly<Record<string, number>>;
  /**
   * `circuitBreakers` of every generated cluster to a registry (`envoy.localRegistry` and
   * `envoy.siblingDefaults`, envoy/README.md); default: the generator's (Envoy's own 1024s).
   */
  readonly circuitBreakers?: {
    readonly maxConnections: number;
    readonly maxPendingRequests: number;
    readonly maxRequests: number;
  };
  /**
   * Regions every other region looks up through their registry's API (`lookup: registry`) with
   * this `registry:` section (credentials…), instead of reading their storage.
   */
  readonly lookupByApi?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** `envoy.siblingDefaults.protocol` (default: the generator's, `auto`: HTTP/1.1 on these links). */
  readonly siblingProtocol?: UpstreamProtocol;
  /**
   * Regions that look their siblings up through the registry API although those run distribution on
   * storage it could read: `{ d: ['a', 'c'] }` makes d name a and c with `lookup: registry` (no
   * storage) and no other sibling, and no other region names d. A twin of a storage-looking region,
   * for comparing the two kinds of lookup on the same siblings (the benchmark's parts 2 and 3).
   */
  readonly registryLookups?: Readonly<Record<string, readonly string[]>>;
  /** Every distribution registry writes its access log into its `logFile` (registry.ts `accessLog`). */
  readonly registryAccessLog?: boolean;
}

/**
 * `registry-api`: the region's registry is go-containerregistry's (crane-registry.ts), with no
 * storage geosync can read; every region looks it up through its API (`lookup: registry`).
 */
export type Backend = 'filesystem' | 's3' | 'azure' | 'gcs' | 'registry-api';

export interface RegionDeployment {
  readonly name: string;
  readonly backend: Backend;
  /** Base URL of the region's Envoy: what clients use. */
  readonly url: string;
  /** `host:port` of the region's Envoy, for skopeo's `docker://` references. */
  readonly host: string;
  /** The region as its siblings reach it (its `regions[].url`): a delaying proxy in front of its Envoy. */
  readonly crossRegion: TcpProxy;
  readonly registry: Registry | CraneRegistry;
  /** Where the registry keeps content: a bucket or container, or a directory. */
  readonly bucket?: string;
  readonly storageRoot?: string;
  readonly configFile: string;
  /** The bootstrap `geosync envoy-config` generated for this region, which `envoy` runs. */
  readonly bootstrap: string;
  readonly adminUrl: string;
  readonly envoy: EnvoyProcess;
  /** The region's S3 endpoint as other regions' geosync see it (s3 mode). */
  readonly s3Proxy?: TcpProxy;
  /** Every event the region's registry sent (with `notifications`). */
  readonly sink?: NotificationSink;
  geosync(): ServeProcess | undefined;
  startGeosync(): Promise<void>;
  /** SIGTERM, then wait for the exit; rejects unless geosync exits 0 within its drain period. */
  stopGeosync(): Promise<void>;
}

export interface Deployment {
  readonly swift?: SwiftS3;
  readonly azurite?: Azurite;
  readonly gcs?: FakeGcs;
  readonly regions: readonly RegionDeployment[];
  region(name: string): RegionDeployment;
  readonly dir: string;
  stop(): Promise<void>;
}

/**
 * Bounds for a geosync that never starts or never stops, not speed requirements: a supervisor and
 * each of its workers load the whole program, and three regions starting beside another file's
 * herd on this 2-core machine once took more than 15 s to be ready.
 */
const GEOSYNC_START_TIMEOUT_MS = 60_000;
/** Deployments of parallel jest workers live on different addresses (127.10.<worker>.<region>). */
const WORKER = Number(process.env.JEST_WORKER_ID ?? 0) % 250;
/** drainMs is 0 here: a geosync that has not exited this long after SIGTERM hangs. */
const GEOSYNC_STOP_TIMEOUT_MS = 30_000;
/** Where geosync takes the registries' notifications (its default path). */
export const NOTIFICATIONS_PATH = '/notifications';

export async function startDeployment(opts: DeploymentOptions): Promise<Deployment> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'geosync-deploy-'));
  const latency = opts.crossRegionLatencyMs ?? 0;
  const cleanups: (() => Promise<void>)[] = [];
  const regions: RegionDeployment[] = [];
  let swift: SwiftS3 | undefined;
  let azurite: Azurite | undefined;
  let gcs: FakeGcs | undefined;
  const backendOf = (region: string): Backend =>
    typeof opts.storage === 'string' ? opts.storage : (opts.storage[region] ?? 'filesystem');
  const backends = new Set(opts.regions.map(backendOf));
  let stopped: Promise<void> | undefined;
  // Every cleanup runs; any that failed (geosync or Envoy not exiting cleanly) fails the stop.
  const stop = () => {
    stopped ??= (async () => {
      const failures: string[] = [];
      for (const c of cleanups.reverse()) {
        await c().catch((err: unknown) => failures.push((err as Error).message ?? String(err)));
      }
      rmSync(dir, { recursive: true, force: true });
      if (failures.length > 0) throw new Error(`deployment stop:\n${failures.join('\n')}`);
    })();
    return stopped;
  };

  // The secret every registry sends geosync, and geosync reads from its environment.
  const notificationSecret = `Bearer ${randomBytes(24).toString('hex')}`;
  const geosyncEnv = opts.notifications ? { GEOSYNC_NOTIFICATIONS_SECRET: notificationSecret } : {};
  try {
    if (backends.has('s3')) {
      swift = await testSwift({
        own: opts.ownSwift ?? false,
        ...(opts.swiftAccessLogUdpPort === undefined ? {} : { accessLogUdpPort: opts.swiftAccessLogUdpPort }),
      });
      cleanups.push(() => (swift as SwiftS3).stop());
    }
    if (backends.has('azure')) {
      azurite = await startAzurite();
      cleanups.push(() => (azurite as Azurite).stop());
    }
    if (backends.has('gcs')) {
      gcs = await startFakeGcs();
      cleanups.push(() => (gcs as FakeGcs).stop());
    }
    // Everything a region's configuration names must be known before any geosync starts.
    const plans: {
      name: string;
      ip: string;
      envoyPort: number;
      crossRegion: TcpProxy;
      url: string;
      sink?: NotificationSink;
    }[] = [];
    for (const [i, name] of opts.regions.entries()) {
      const ip = `127.10.${WORKER}.${i + 1}`;
      const envoyPort = await freePort(ip);
      const crossRegion = await startTcpProxy({
        target: { host: ip, port: envoyPort },
        delayMs: latency,
        host: ip,
      });
      cleanups.push(() => crossRegion.close());
      let sink: NotificationSink | undefined;
      if (opts.notifications) {
        const started = await startNotificationSink();
        cleanups.push(() => started.close());
        sink = started;
      }
      plans.push({ name, ip, envoyPort, crossRegion, url: crossRegion.url, ...(sink ? { sink } : {}) });
    }
    const storageOf = new Map<
      string,
      { yaml: string; registry: RegistryStorage; bucket?: string; root?: string; proxy?: TcpProxy }
    >();
    /** What geosync reaches a store through: a delaying proxy, as the registries' Envoys are. */
    const proxied = async (url: string) => {
      const u = new URL(url);
      const proxy = await startTcpProxy({
        target: { host: u.hostname, port: Number(u.port) },
        delayMs: latency,
      });
      cleanups.push(() => proxy.close());
      return proxy;
    };
    for (const p of plans) {
      const bucket = `region-${p.name}`;
      const backend = backendOf(p.name);
      if (backend === 's3' && swift) {
        await swift.createBucket(bucket);
        const proxy = await proxied(swift.endpoint);
        storageOf.set(p.name, {
          bucket,
          proxy,
          registry: { type: 's3', s3: swift, bucket },
          yaml: JSON.stringify({
            type: 's3',
            bucket,
            endpoint: proxy.url,
            region: swift.region,
            forcePathStyle: true,
            accessKeyId: swift.accessKeyId,
            secretAccessKey: swift.secretAccessKey,
            ...(opts.s3RequestTimeoutMs?.[p.name]
              ? { requestTimeoutMs: opts.s3RequestTimeoutMs[p.name] }
              : {}),
          }),
        });
      } else if (backend === 'azure' && azurite) {
        await azurite.createContainer(bucket);
        const proxy = await proxied(azurite.blobUrl);
        storageOf.set(p.name, {
          bucket,
          proxy,
          registry: { type: 'azure', azurite, container: bucket },
          yaml: JSON.stringify({
            type: 'azure',
            accountname: azurite.accountName,
            container: bucket,
            serviceurl: `${proxy.url}${new URL(azurite.blobUrl).pathname}`,
            accountkey: azurite.accountKey,
          }),
        });
      } else if (backend === 'gcs' && gcs) {
        await gcs.createBucket(bucket);
        const proxy = await proxied(gcs.url);
        storageOf.set(p.name, {
          bucket,
          proxy,
          registry: { type: 'gcs', gcs, bucket },
          yaml: JSON.stringify({ type: 'gcs', bucket, endpoint: proxy.url }),
        });
      } else if (backend === 'registry-api') {
        continue;
      } else {
        const root = path.join(dir, p.name, 'storage');
        mkdirSync(root, { recursive: true });
        storageOf.set(p.name, {
          root,
          registry: { type: 'filesystem', root },
          yaml: JSON.stringify({ type: 'filesystem', root }),
        });
      }
    }
    // geosync's admin ports are named in the registries' configuration (their notifications), so
    // they are chosen before the registries start (ports.ts hands out ports below the ephemeral
    // range, so no port-0 listener can take one meanwhile).
    const adminPorts = new Map<string, number>();
    for (const p of plans) adminPorts.set(p.name, await freePort());
    /** The registry of a region sends every event to its geosync and to its sink. */
    const notificationsOf = (p: (typeof plans)[number]) =>
      p.sink
        ? {
            notifications: [
              {
                name: 'geosync',
                url: `http://127.0.0.1:${adminPorts.get(p.name)}${NOTIFICATIONS_PATH}`,
                headers: { Authorization: notificationSecret },
              },
              { name: 'sink', url: p.sink.url },
            ],
          }
        : {};
    const registries = new Map<string, Registry | CraneRegistry>();
    /** With token auth, what Envoy reaches as the local registry (token-server.ts). */
    const fronts = new Map<string, number>();
    for (const p of plans) {
      if (backendOf(p.name) === 'registry-api') {
        const registry = await startCraneRegistry();
        cleanups.push(() => registry.stop());
        registries.set(p.name, registry);
        continue;
      }
      const storage = storageOf.get(p.name);
      const registry = await startRegistry({
        storage: (storage as { registry: RegistryStorage }).registry,
        ...(opts.registryVersion ? { version: opts.registryVersion } : {}),
        ...(opts.sparseIndexes ? { sparseIndexes: true } : {}),
        ...(opts.registryAccessLog ? { accessLog: true } : {}),
        ...(opts.auth && (opts.authRegions?.includes(p.name) ?? true) ? { auth: opts.auth } : {}),
        ...(opts.tokenAuth
          ? { tokenAuth: { server: opts.tokenAuth, realm: `http://${p.ip}:${p.envoyPort}/token` } }
          : {}),
        ...notificationsOf(p),
      });
      cleanups.push(() => registry.stop());
      registries.set(p.name, registry);
      if (opts.tokenAuth) {
        const front = await opts.tokenAuth.front({ host: '127.0.0.1', port: registry.port });
        cleanups.push(() => front.close());
        fronts.set(p.name, front.port);
      }
    }

    const breakers = opts.circuitBreakers ? `circuitBreakers: ${JSON.stringify(opts.circuitBreakers)}` : '';
    const siblingKeys = [breakers, opts.siblingProtocol ? `protocol: ${opts.siblingProtocol}` : ''].filter(
      Boolean,
    );
    const twins = opts.registryLookups ?? {};
    /** The regions p names in its configuration (itself first) and how it looks each up. */
    const regionLines = (p: (typeof plans)[number]) =>
      plans
        .filter((q) => q === p || (twins[p.name]?.includes(q.name) ?? twins[q.name] === undefined))
        .map((q) =>
          backendOf(q.name) === 'registry-api' || (q !== p && twins[p.name])
            ? `  - { name: ${q.name}, url: "${q.url}", lookup: registry }`
            : q !== p && opts.lookupByApi?.[q.name]
              ? `  - { name: ${q.name}, url: "${q.url}", lookup: registry, registry: ${JSON.stringify(opts.lookupByApi[q.name])} }`
              : `  - { name: ${q.name}, url: "${q.url}", storage: ${storageOf.get(q.name)?.yaml} }`,
        );
    for (const p of plans) {
      const registry = registries.get(p.name) as Registry | CraneRegistry;
      const adminPort = adminPorts.get(p.name) as number;
      const [grpcPort, envoyAdminPort] = [await freePort(), await freePort()];
      const configFile = path.join(dir, `geosync-${p.name}.yaml`);
      writeFileSync(
        configFile,
        [
          `region: ${p.name}`,
          `listen: { grpc: "127.0.0.1:${grpcPort}", admin: "127.0.0.1:${adminPort}"${opts.workers === undefined ? '' : `, workers: ${opts.workers}`} }`,
          ...(opts.lookupTimeoutMs === undefined ? [] : [`lookupTimeoutMs: ${opts.lookupTimeoutMs}`]),
          'drainMs: 0',
          'regions:',
          ...regionLines(p),
          'locate:',
          `  healthCheck: { enabled: ${opts.healthCheck ?? false}, intervalMs: 200, timeoutMs: 500, unhealthyThreshold: 1 }`,
          `telemetry: { logLevel: ${opts.logLevel ?? 'info'} }`,
          ...(opts.pushCheckBasicUsers
            ? [`pushCheckBasicUsers: ${JSON.stringify(opts.pushCheckBasicUsers)}`]
            : []),
          ...freshnessYaml(opts, p.name, backendOf(p.name) === 'registry-api'),
          `notifications: { enabled: ${opts.notifications ?? false}, path: ${NOTIFICATIONS_PATH} }`,
          'envoy:',
          `  listener: { address: ${p.ip}, port: ${p.envoyPort} }`,
          `  admin: { address: 127.0.0.1, port: ${envoyAdminPort} }`,
          '  ignorePortInHostMatching: true',
          `  localRegistry: { address: 127.0.0.1, port: ${fronts.get(p.name) ?? registry.port}${breakers ? `, ${breakers}` : ''} }`,
          ...(siblingKeys.length ? [`  siblingDefaults: { ${siblingKeys.join(', ')} }`] : []),
          "  accessLogPath: ''",
          '',
        ].join('\n'),
      );
      const generated = await runEnvoyConfig(['--config', configFile]);
      if (generated.code !== 0) throw new Error(`envoy-config for ${p.name} failed:\n${generated.stderr}`);
      const envoy = await startEnvoy(generated.stdout, {
        release: opts.envoyRelease ?? 'newest',
        dir: path.join(dir, `envoy-${p.name}`),
        name: `envoy-${p.name}`,
      });
      cleanups.push(() => envoy.close());

      let serve: ServeProcess | undefined;
      const adminUrl = `http://127.0.0.1:${adminPort}`;
      const stopGeosync = async () => {
        const s = serve;
        serve = undefined;
        if (!s) return;
        if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
        let killed = false;
        const killer = setTimeout(() => {
          killed = true;
          s.child.kill('SIGKILL');
        }, GEOSYNC_STOP_TIMEOUT_MS);
        const code = await s.exited;
        clearTimeout(killer);
        if (killed || code !== 0) {
          throw new Error(
            `geosync ${p.name} ${killed ? `did not exit within ${GEOSYNC_STOP_TIMEOUT_MS} ms of SIGTERM` : `exited ${code}`}:\n${s.output().slice(-2000)}`,
          );
        }
      };
      const startGeosync = async () => {
        if (serve) return;
        const started = startServe(configFile, geosyncEnv);
        serve = started;
        try {
          await waitForStatus(`${adminUrl}/readyz`, 200, GEOSYNC_START_TIMEOUT_MS);
        } catch (err) {
          throw new Error(
            `geosync ${p.name} did not become ready: ${(err as Error).message}\n${started.output()}`,
            { cause: err },
          );
        }
      };
      cleanups.push(stopGeosync);
      const storage = storageOf.get(p.name);
      regions.push({
        name: p.name,
        backend: backendOf(p.name),
        url: `http://${p.ip}:${p.envoyPort}`,
        host: `${p.ip}:${p.envoyPort}`,
        crossRegion: p.crossRegion,
        registry,
        ...(storage?.bucket ? { bucket: storage.bucket } : {}),
        ...(storage?.root ? { storageRoot: storage.root } : {}),
        ...(storage?.proxy ? { s3Proxy: storage.proxy } : {}),
        ...(p.sink ? { sink: p.sink } : {}),
        configFile,
        bootstrap: generated.stdout,
        adminUrl,
        envoy,
        geosync: () => serve,
        startGeosync,
        stopGeosync,
      });
    }
    if (opts.withGeosync ?? true) await Promise.all(regions.map((r) => r.startGeosync()));
  } catch (err) {
    // The start-up error is the one to report; processes stopped half-started (a geosync killed
    // by SIGTERM before it installed its handler) are expected then, and only appended.
    await stop().catch((stopErr: unknown) => {
      (err as Error).message += `\n(while stopping after that: ${(stopErr as Error).message})`;
    });
    throw err;
  }

  return {
    ...(swift ? { swift } : {}),
    ...(azurite ? { azurite } : {}),
    ...(gcs ? { gcs } : {}),
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

/** The region's `freshness:` line, when a test sets any of its keys there. */
function freshnessYaml(opts: DeploymentOptions, region: string, noStorage: boolean): string[] {
  const keys = [
    // Tag freshness reads this region's own tag history from its storage: none to read here.
    ...(noStorage ? ['signatureTagMaxStalenessMs: 0'] : []),
    ...(opts.tagMaxStalenessMs?.[region] ? [`tagMaxStalenessMs: ${opts.tagMaxStalenessMs[region]}`] : []),
    ...(opts.tagListMaxStalenessMs?.[region] !== undefined
      ? [`tagListMaxStalenessMs: ${opts.tagListMaxStalenessMs[region]}`]
      : []),
  ];
  return keys.length > 0 ? [`freshness: { ${keys.join(', ')} }`] : [];
}
