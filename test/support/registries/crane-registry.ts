/**
 * go-containerregistry's own registry (`crane registry serve --disk DIR`): an OCI registry that is
 * not CNCF distribution and keeps no distribution layout on disk (blobs by digest in DIR,
 * manifests and tags in memory), so geosync can find its content only through its API
 * (`lookup: registry`). Every request it answers is counted by method and path by a front in a
 * process of its own (counting-front.js), for the tests' "at most one request per key" checks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toolPath } from '../clients/oci-clients';
import { freePort } from '../net/ports';
import { spawnManaged, until, waitForHttp } from '../process';

export interface CraneRegistry {
  /** `http://127.0.0.1:PORT` of the counting front. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly logFile: string;
  readonly version: 'go-containerregistry';
  /** Requests the front passed on, as `METHOD /path?query` (`lookup METHOD …` for geosync's), in order. */
  requests(): Promise<string[]>;
  /** Forgets the requests counted so far. */
  clear(): Promise<void>;
  /** How many of geosync's lookups went to `path` (any method, any query). */
  lookups(path: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startCraneRegistry(): Promise<CraneRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-crane-'));
  const disk = path.join(dir, 'disk');
  fs.mkdirSync(disk);
  const inner = await freePort();
  const proc = spawnManaged(
    'crane-registry',
    toolPath('crane'),
    ['registry', 'serve', '--address', `127.0.0.1:${inner}`, '--disk', disk],
    { logDir: dir },
  );
  const front = spawnManaged(
    'counting-front',
    process.execPath,
    [path.join(__dirname, 'counting-front.js'), String(inner)],
    {
      logDir: dir,
    },
  );
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await front.stop();
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  let port = 0;
  try {
    await waitForHttp(`http://127.0.0.1:${inner}/v2/`, { timeoutMs: 20_000, proc });
    await until(
      'the counting front listens',
      async () => {
        const m = /^port (\d+)$/m.exec(fs.readFileSync(front.logFile, 'utf8'));
        if (m) port = Number(m[1]);
        return port > 0;
      },
      20_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  const requests = async (): Promise<string[]> =>
    (await (await fetch(`${url}/__front/requests`)).json()) as string[];
  const pathOf = (r: string) => r.split(' ').at(-1)?.split('?')[0];
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    logFile: proc.logFile,
    version: 'go-containerregistry',
    requests,
    clear: async () => {
      await (await fetch(`${url}/__front/clear`, { method: 'POST' })).arrayBuffer();
    },
    lookups: async (p) => (await requests()).filter((r) => r.startsWith('lookup ') && pathOf(r) === p).length,
    stop,
  };
}
