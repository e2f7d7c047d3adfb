/**
 * `geosync serve` (the built CLI, a real process) for region b, whose siblings a and c keep their
 * registries' storage in real Swift S3 buckets: the fixture of the tests that start geosync
 * against S3 and load it with herds. Content is put into a bucket with the S3 API at the key
 * distribution would write (src/storage/keys.ts); no registry is needed to answer a lookup.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { REGISTRY_V2_ROOT, tagCurrentLinkKey } from '../../../src/storage/keys';
import { startServe, waitForStatus, type ServeProcess } from '../clients/geosync-cli';
import { freePorts } from '../net/ports';
import { testSwift } from './shared-swift';
import type { SwiftS3 } from './swift';

export const SIBLINGS = ['a', 'c'] as const;
export type Sibling = (typeof SIBLINGS)[number];

/** What a start may change in a sibling's storage configuration. */
export interface SiblingStorage {
  readonly bucket?: string;
  /** The S3 endpoint geosync uses for this sibling (default Swift's own; e.g. a delaying proxy). */
  readonly endpoint?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

export interface StartOptions {
  /** Wait for /readyz 200 (default true). */
  readonly ready?: boolean;
  readonly storage?: Partial<Record<Sibling, SiblingStorage>>;
  /** Default: geosync's own default (150 ms). */
  readonly lookupTimeoutMs?: number;
  /** Default: geosync's own default (2 s). */
  readonly lookupTimeoutMaxMs?: number;
  /** Default warn. */
  readonly logLevel?: 'info' | 'warn';
}

export interface SwiftServe {
  readonly swift: SwiftS3;
  readonly serve: ServeProcess;
  /** `127.0.0.1:PORT` of geosync b's ext_proc server. */
  readonly grpc: string;
  /** geosync b's admin base URL. */
  readonly admin: string;
  /** Puts a tag link for team/app:<tag> into sibling `region`'s bucket. */
  putTag(region: Sibling, tag: string): Promise<void>;
  /**
   * Waits until Swift answers one HEAD per sibling bucket: requests queued before (e.g. probes
   * geosync gave up on at a deadline) have been worked off.
   */
  storageCaughtUp(): Promise<void>;
  /** Starts geosync b (stopping one that runs). */
  start(opts?: StartOptions): Promise<void>;
  /** geosync b's JSON log lines so far. */
  logLines(): Record<string, unknown>[];
  /** Waits (at most `timeoutMs`) for a log line with message `msg`; needs logLevel info for info lines. */
  logged(msg: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `ownSwift`: a Swift of its own, not an account of the run's (shared-swift.ts `own`). */
export async function startSwiftServe({ ownSwift = false } = {}): Promise<SwiftServe> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'geosync-swift-serve-'));
  mkdirSync(path.join(tmp, 'b'));
  const swift = await testSwift({ own: ownSwift });
  let serve: ServeProcess | undefined;
  const stopServe = async (): Promise<void> => {
    if (serve && serve.child.exitCode === null && serve.child.signalCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
  };
  try {
    for (const r of SIBLINGS) await swift.createBucket(`region-${r}`);
    const [grpcPort, adminPort] = (await freePorts(2)) as [number, number];
    const admin = `http://127.0.0.1:${adminPort}`;
    const s3 = swift.client();
    const sibling = (r: Sibling, o: SiblingStorage = {}) =>
      `  - name: ${r}
    url: "http://registry-${r}.invalid:5000"
    storage:
      type: s3
      bucket: ${o.bucket ?? `region-${r}`}
      endpoint: "${o.endpoint ?? swift.endpoint}"
      region: ${swift.region}
      forcePathStyle: true
      accessKeyId: "${o.accessKeyId ?? swift.accessKeyId}"
      secretAccessKey: "${o.secretAccessKey ?? swift.secretAccessKey}"
`;
    const writeConfig = ({
      storage = {},
      lookupTimeoutMs,
      lookupTimeoutMaxMs,
      logLevel = 'warn',
    }: StartOptions): string => {
      const file = path.join(tmp, 'geosync-b.yaml');
      writeFileSync(
        file,
        `region: b
listen: { grpc: "127.0.0.1:${grpcPort}", admin: "127.0.0.1:${adminPort}" }
drainMs: 0
${lookupTimeoutMs === undefined ? '' : `lookupTimeoutMs: ${lookupTimeoutMs}\n`}${lookupTimeoutMaxMs === undefined ? '' : `lookupTimeoutMaxMs: ${lookupTimeoutMaxMs}\n`}telemetry: { logLevel: ${logLevel} }
regions:
${sibling('a', storage.a)}  - { name: b, url: "http://registry-b.invalid:5000", storage: { type: filesystem, root: "${path.join(tmp, 'b')}" } }
${sibling('c', storage.c)}`,
      );
      return file;
    };
    const logLines = (): Record<string, unknown>[] =>
      (serve?.output() ?? '')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    return {
      swift,
      get serve() {
        if (!serve) throw new Error('geosync b is not started');
        return serve;
      },
      grpc: `127.0.0.1:${grpcPort}`,
      admin,
      async putTag(region, tag) {
        await s3.send(
          new PutObjectCommand({
            Bucket: `region-${region}`,
            Key: `${REGISTRY_V2_ROOT}/${tagCurrentLinkKey('team/app', tag)}`,
            Body: `sha256:${'c'.repeat(64)}`,
          }),
          { abortSignal: AbortSignal.timeout(10_000) },
        );
      },
      async storageCaughtUp() {
        for (const r of SIBLINGS) {
          await s3
            .send(new HeadObjectCommand({ Bucket: `region-${r}`, Key: 'caught-up' }), {
              abortSignal: AbortSignal.timeout(30_000),
            })
            .catch((err: { $metadata?: { httpStatusCode?: number } }) => {
              if (err.$metadata?.httpStatusCode !== 404) throw err;
            });
        }
      },
      async start(opts = {}) {
        await stopServe();
        serve = startServe(writeConfig(opts));
        if (opts.ready ?? true) await waitForStatus(`${admin}/readyz`, 200, 30_000);
      },
      logLines,
      async logged(msg, timeoutMs = 60_000) {
        const until = Date.now() + timeoutMs;
        while (!logLines().some((l) => l.msg === msg)) {
          if (Date.now() > until) throw new Error(`geosync b did not log "${msg}" within ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      async stop() {
        await stopServe();
        await swift.stop();
        rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await swift.stop();
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
