/**
 * Storage requests as the object store saw them: Swift's proxy access log (one syslog datagram
 * per S3 request, test/support/storage/swift.ts `accessLogUdpPort`), received on a UDP port of this
 * process. geosync's requests are those of the AWS SDK for JavaScript; the registries use the AWS
 * SDK for Go, and geosync's own keep-warm HEADs name a key outside distribution's layout, so both
 * are told apart from the requests a pull causes.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import { sharedSwiftRelayPort } from '../../support/storage/shared-swift';

/** distribution's storage root inside a bucket (test/support/registries/registry.ts: rootdirectory `/`). */
const LAYOUT_PREFIX = 'docker/registry/v2/';

export interface StorageRequest {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly status: number;
  readonly userAgent: string;
}

export interface ProbeCounts {
  /** Distinct keys geosync asked this bucket about. */
  readonly keys: number;
  /** Every request geosync sent this bucket in the layout: HEADs and (ranged) GETs alike. */
  readonly requests: number;
  /** The most requests any one key got (the herd target is 1). */
  readonly maxPerKey: number;
}

export class StorageRequestLog {
  private entries: StorageRequest[] = [];

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (m) => {
      const parsed = parseLine(m.toString('utf8'));
      if (parsed) this.entries.push(parsed);
    });
  }

  static async start(): Promise<StorageRequestLog> {
    // A herd makes thousands of storage requests in a few seconds: a large receive buffer keeps
    // the kernel from dropping datagrams while this process is busy (drops() tells if it did).
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new StorageRequestLog(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Forgets what was received so far. */
  reset(): void {
    this.entries = [];
  }

  get requests(): readonly StorageRequest[] {
    return this.entries;
  }

  /**
   * geosync's requests of `bucket` since the last reset, counted per key. Any method: a lookup
   * asks for a tag's link with a ranged GET (it wants its digest) and for a blob with a HEAD.
   */
  probesOf(bucket: string): ProbeCounts {
    const perKey = new Map<string, number>();
    for (const e of this.entries) {
      if (e.bucket !== bucket || !e.userAgent.startsWith('aws-sdk-js')) continue;
      if (!e.key.startsWith(LAYOUT_PREFIX)) continue;
      perKey.set(e.key, (perKey.get(e.key) ?? 0) + 1);
    }
    const counts = [...perKey.values()];
    return {
      keys: perKey.size,
      requests: counts.reduce((a, b) => a + b, 0),
      maxPerKey: counts.length ? Math.max(...counts) : 0,
    };
  }

  /**
   * Datagrams the kernel dropped on this socket and, when the log comes through the test run's
   * shared Swift, on its relay (any user's: a drop there may have been one of these).
   */
  drops(): number {
    const relay = sharedSwiftRelayPort();
    return udpDrops(this.port) + (relay === undefined ? 0 : udpDrops(relay));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Datagrams the kernel dropped on a loopback UDP port (/proc/net/udp, last column); 0 when unknown. */
function udpDrops(port: number): number {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const lines = fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const cols = line.trim().split(/\s+/);
    if (cols[1]?.endsWith(`:${portHex}`)) return Number(cols[cols.length - 1] ?? 0);
  }
  return 0;
}

/**
 * `<134>proxy-server: HEAD /region-a/docker/registry/v2/... 200 aws-sdk-js/3.x%20ua/2.1... (txn: …)`
 * (the template in test/support/storage/swift.ts: method, path, status, user agent, each URL-quoted).
 */
export function parseLine(line: string): StorageRequest | undefined {
  const m = /proxy-server: (\S+) (\S+) (\d+) (\S+)/.exec(line);
  if (!m) return undefined;
  const [, method = '', rawPath = '', status = '0', userAgent = ''] = m;
  const pathOnly = decodeURIComponent(rawPath).split('?')[0] as string;
  const [, bucket = '', ...rest] = pathOnly.split('/');
  return { method, bucket, key: decodeURIComponent(rest.join('/')), status: Number(status), userAgent };
}
