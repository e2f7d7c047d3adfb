/**
 * One region's Envoy, real, on the bootstrap geosync generates (buildBootstrap, what
 * `geosync envoy-config` prints), in front of a registry-shaped fake, with one sibling region (a
 * fake too, http or https by SNI) and a scripted ext_proc processor in geosync's place. For the
 * tests that pin what Envoy does around geosync; the end-to-end suites run the real pieces.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfigText } from '../../../src/config/load';
import { buildBootstrap } from '../../../src/envoy/bootstrap';
import { renderBootstrap } from '../../../src/envoy/render';
import { startEnvoy, type EnvoyProcess, type EnvoyRelease } from '../envoy/envoy';
import { content, makeTls, notFound, startFakeServer, type FakeServer, type Handler } from '../http-fakes';
import { freePort } from '../net/ports';
import {
  attributesOf,
  headerOf,
  setHeadersReply,
  startProcessor,
  type Script,
  type ScriptedProcessor,
} from '../clients/scripted-processor';

const WORKER = Number(process.env.JEST_WORKER_ID ?? 0) % 250;

export interface StackOptions {
  readonly release: EnvoyRelease;
  /** The processor's behaviour; default: geosync's (404 → 307 to the sibling with the marker). */
  readonly script?: (siblingUrl: string) => Script;
  readonly registry?: Handler;
  readonly sibling?: Handler;
  /** The sibling at https://localhost:PORT, verified by SNI and SAN against a test CA. */
  readonly siblingTls?: boolean;
  /** The sibling also speaks HTTP/2: ALPN h2 with `siblingTls`, else only prior-knowledge h2c. */
  readonly siblingHttp2?: boolean;
  /** geosync's gRPC address kind: loopback TCP (default) or a unix socket. */
  readonly grpc?: 'tcp' | 'unix';
  /** Extra `envoy:` options of the geosync configuration. */
  readonly envoy?: Record<string, unknown>;
  readonly lookupTimeoutMs?: number;
  /** `freshness.tagMaxStalenessMs` of the geosync configuration (0: off). */
  readonly tagMaxStalenessMs?: number;
  /** `freshness.signatureTagMaxStalenessMs` (default: geosync's). */
  readonly signatureTagMaxStalenessMs?: number;
  /** `pushCheckBasicUsers` of the geosync configuration (default: none). */
  readonly pushCheckBasicUsers?: readonly string[];
}

export interface Stack {
  readonly envoy: EnvoyProcess;
  /** The region's Envoy, as clients use it. */
  readonly url: string;
  readonly registry: FakeServer;
  readonly sibling: FakeServer;
  readonly siblingUrl: string;
  readonly processor: ScriptedProcessor;
  readonly bootstrap: string;
  /** The file Envoy's access log goes to. */
  readonly accessLog: string;
  close(): Promise<void>;
}

/** geosync's answer, scripted: a 404 becomes a 307 to the sibling, anything else passes. */
export const geosyncLike =
  (siblingUrl: string): Script =>
  (m, s) => {
    if (m.request !== 'response_headers') return;
    if (headerOf(m, ':status') !== '404') {
      s.call.write({ response_headers: {} });
      return;
    }
    const p = attributesOf(m)['request.path'] ?? '/';
    s.call.write(
      setHeadersReply({ ':status': '307', location: `${siblingUrl}${p}`, 'x-geosync-redirect': '1' }),
    );
  };

export async function startStack(opts: StackOptions): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-envoy-'));
  const closers: (() => Promise<void>)[] = [];
  try {
    const tls = opts.siblingTls ? makeTls(path.join(dir, 'tls'), 'localhost') : undefined;
    const registry = await startFakeServer(opts.registry ?? notFound);
    closers.push(() => registry.close());
    const siblingHost = tls ? 'localhost' : `127.20.${WORKER}.2`;
    const sibling = await startFakeServer(opts.sibling ?? content('manifest from b'), {
      host: tls ? '127.0.0.1' : siblingHost,
      ...(tls ? { tls } : {}),
      ...(opts.siblingHttp2 ? { http2: true } : {}),
    });
    closers.push(() => sibling.close());
    const siblingUrl = `${tls ? 'https' : 'http'}://${siblingHost}:${sibling.port}`;
    const grpc = opts.grpc === 'unix' ? `unix:${path.join(dir, 'geosync.sock')}` : '127.0.0.1:0';
    const processor = await startProcessor((opts.script ?? geosyncLike)(siblingUrl), grpc);
    closers.push(() => processor.close());

    const ip = `127.20.${WORKER}.1`;
    const port = await freePort(ip);
    const config = {
      region: 'a',
      listen: { grpc: processor.address, admin: `127.0.0.1:${await freePort()}` },
      lookupTimeoutMs: opts.lookupTimeoutMs ?? 150,
      ...(opts.pushCheckBasicUsers ? { pushCheckBasicUsers: opts.pushCheckBasicUsers } : {}),
      freshness: {
        ...(opts.tagMaxStalenessMs ? { tagMaxStalenessMs: opts.tagMaxStalenessMs } : {}),
        ...(opts.signatureTagMaxStalenessMs !== undefined
          ? { signatureTagMaxStalenessMs: opts.signatureTagMaxStalenessMs }
          : {}),
      },
      regions: [
        {
          name: 'a',
          url: `http://${ip}:${port}`,
          storage: { type: 'filesystem', root: path.join(dir, 'a') },
        },
        { name: 'b', url: siblingUrl, storage: { type: 'filesystem', root: path.join(dir, 'b') } },
      ],
      envoy: {
        admin: { address: '127.0.0.1', port: 0 },
        accessLogPath: path.join(dir, 'access.log'),
        ...opts.envoy,
        // The test CA, unless the test's own `siblings.b` names another.
        siblings: {
          b: {
            ...(tls ? { caFile: tls.caFile } : {}),
            ...(opts.envoy?.siblings as { b?: object } | undefined)?.b,
          },
        },
        // The listener's and the fake registry's addresses, beside any other key the test sets.
        listener: { ...(opts.envoy?.listener as object | undefined), address: ip, port },
        localRegistry: {
          ...(opts.envoy?.localRegistry as object | undefined),
          address: '127.0.0.1',
          port: registry.port,
        },
      },
    };
    const loaded = loadConfigText(stringify(config));
    if (!loaded.ok) throw new Error(`test config: ${JSON.stringify(loaded.problems)}`);
    const bootstrap = renderBootstrap(buildBootstrap(loaded.config), 'yaml', { region: 'a', source: 'test' });
    const envoy = await startEnvoy(bootstrap, { release: opts.release, dir, name: 'envoy-a' });
    closers.push(() => envoy.close());
    return {
      envoy,
      url: `http://${ip}:${port}`,
      registry,
      sibling,
      siblingUrl,
      processor,
      bootstrap,
      accessLog: path.join(dir, 'access.log'),
      close: async () => {
        const failures: string[] = [];
        for (const c of closers.reverse()) await c().catch((e: unknown) => failures.push(String(e)));
        fs.rmSync(dir, { recursive: true, force: true });
        if (failures.length > 0) throw new Error(failures.join('\n'));
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A client request through the region's Envoy (no redirect following: a 307 is seen as such). */
export async function get(
  url: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    ...(opts.headers ? { headers: opts.headers } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}
