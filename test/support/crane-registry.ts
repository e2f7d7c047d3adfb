/**
 * go-containerregistry's own registry (`crane registry serve --disk DIR`): an OCI registry that is
 * not CNCF distribution and keeps no distribution layout on disk (blobs by digest in DIR,
 * manifests and tags in memory), so geosync can find its content only through its API
 * (`lookup: registry`). Every request it answers is counted by method and path (a front on
 * loopback), for the tests' "at most one request per key" checks.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { toolPath } from './oci-clients';
import { freePort } from './ports';
import { spawnManaged, waitForHttp } from './process';

export interface CraneRegistry {
  /** `http://127.0.0.1:PORT` of the counting front. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly logFile: string;
  readonly version: 'go-containerregistry';
  /** Requests the front passed on, as `METHOD /path?query` (`lookup METHOD …` for geosync's), in order. */
  readonly requests: readonly string[];
  /** Forgets the requests counted so far. */
  clear(): void;
  /** How many requests went to `path` (any method, any query). */
  count(path: string): number;
  /** How many of geosync's lookups went to `path` (any method, any query). */
  lookups(path: string): number;
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
  const requests: string[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const front = http.createServer((req, res) => {
    // geosync's own lookups are told apart from the pulls Envoy redirected here by their agent.
    const who = String(req.headers['user-agent'] ?? '').startsWith('geosync/') ? 'lookup ' : '';
    requests.push(`${who}${req.method} ${req.url}`);
    const upstream = http.request(
      { host: '127.0.0.1', port: inner, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  front.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const port = (front.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      agent.destroy();
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    await waitForHttp(`http://127.0.0.1:${inner}/v2/`, { timeoutMs: 20_000, proc });
  } catch (err) {
    await stop();
    throw err;
  }
  requests.length = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    logFile: proc.logFile,
    version: 'go-containerregistry',
    requests,
    clear: () => {
      requests.length = 0;
    },
    count: (p) => requests.filter((r) => r.split(' ').at(-1)?.split('?')[0] === p).length,
    lookups: (p) =>
      requests.filter((r) => r.startsWith('lookup ') && r.split(' ').at(-1)?.split('?')[0] === p).length,
    stop,
  };
}
