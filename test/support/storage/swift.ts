/**
 * OpenStack Swift with the s3api middleware (a production S3 implementation that CNCF
 * distribution's s3 driver works against, unlike s3rver) plus the memcached that s3api+tempauth
 * require, on free loopback ports in a temporary directory. One instance serves any number of
 * buckets (one per region). See test-environment notes in the README ("Tests").
 *
 * Swift reads /etc/swift/swift.conf (hash prefix/suffix) from that fixed path; it is created when
 * missing. Every server runs in its own process group because Swift forks workers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePorts } from '../net/ports';
import {
  ExitedBeforeReady,
  run,
  spawnManaged,
  waitForHttp,
  waitForTcp,
  type ManagedProcess,
} from '../process';

export interface S3Endpoint {
  /** `http://127.0.0.1:PORT`; path-style addressing. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

export interface SwiftS3 extends S3Endpoint {
  readonly port: number;
  /** A user of the same account without write access (tempauth, no `.admin`). */
  readonly reader: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Temporary directory holding configs, rings, object data and logs. */
  readonly dir: string;
  createBucket(name: string): Promise<void>;
  /** A client for the test's own S3 calls (put/delete objects); destroyed by stop(). */
  client(): S3Client;
  /**
   * Destroys its clients; a Swift of its own also stops every server and removes the directory (an
   * account of the run's shared Swift leaves both). Idempotent, safe after a failed start.
   */
  stop(): Promise<void>;
}

const SWIFT_CONF = `[swift-hash]
swift_hash_path_suffix = geosync
swift_hash_path_prefix = geosync
[storage-policy:0]
name = gold
default = yes
`;

/**
 * Seconds a server keeps retrying a port that is taken (Swift's `bind_timeout`, 30 by default in
 * swift/common/wsgi.py `get_socket`): short, so that a start that lost its port to another process
 * fails at once and startSwift tries again on other ports, instead of waiting out its deadline.
 */
const BIND_TIMEOUT_S = 2;

/** Start attempts: the second, on fresh ports, only after a server exited before it listened. */
const ATTEMPTS = 2;

/** The `[DEFAULT]` section every server's configuration starts with. */
function defaults(port: number, dir: string, workers: number): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
bind_timeout = ${BIND_TIMEOUT_S}
workers = ${workers}
swift_dir = ${dir}/etc
user = root
log_level = WARNING
`;
}

function serverConf(kind: string, port: number, dir: string, workers: number): string {
  // log_requests off: each request's log line is built before log_level drops it.
  return `${defaults(port, dir, workers)}devices = ${dir}/node
mount_check = false
log_requests = false
[pipeline:main]
pipeline = ${kind}-server
[app:${kind}-server]
use = egg:swift#${kind}
`;
}

/**
 * The proxy's access log (one line per S3 request as Swift saw it), sent as syslog datagrams to a
 * UDP port on loopback (proxy_logging's `access_log_udp_host`/`_port`), in the format of
 * `SWIFT_ACCESS_LOG_FIELDS`: what a benchmark counts storage requests from.
 */
export const SWIFT_ACCESS_LOG_FIELDS = ['method', 'path', 'status', 'user_agent'] as const;

/** `byAccount`: each line starts with the request's account (`AUTH_t3`), for shared-swift.ts's relay. */
function accessLogConf(udpPort: number | undefined, byAccount: boolean): string {
  if (udpPort === undefined) return '';
  return `access_log_udp_host = 127.0.0.1
access_log_udp_port = ${udpPort}
access_log_level = INFO
log_msg_template = ${byAccount ? '{account} ' : ''}{method} {path} {status_int} {user_agent}
`;
}

/** Tempauth's users: `test:tester` (admin) and `test:reader`, and the same in accounts t1…tN. */
function users(accounts: number): string {
  return ['test', ...Array.from({ length: accounts }, (_, i) => `t${i + 1}`)]
    .map((a) => `user_${a}_tester = testing .admin\nuser_${a}_reader = reading\n`)
    .join('');
}

function proxyConf(
  port: number,
  memcachedPort: number,
  dir: string,
  { accessLogUdpPort, accessLogByAccount = false, accounts = 0, workers = 1 }: StartOptions,
): string {
  return `${defaults(port, dir, workers)}[pipeline:main]
pipeline = catch_errors gatekeeper proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
${accessLogConf(accessLogUdpPort, accessLogByAccount)}[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachedPort}
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
${users(accounts)}[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
`;
}

/**
 * The Python that Swift is installed for: the interpreter named by `swift-ring-builder`'s shebang
 * (Debian's /usr/bin/python3; a `python3` earlier on PATH, e.g. pyenv's, may not have Swift).
 */
function swiftPython(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, 'swift-ring-builder');
    if (!fs.existsSync(file)) continue;
    const shebang = /^#!\s*(\S+)/.exec(fs.readFileSync(file, 'utf8').split('\n', 1)[0] ?? '');
    if (shebang?.[1]) return shebang[1];
  }
  throw new Error('swift-ring-builder is not on PATH (scripts/install-deps.sh installs Swift)');
}

/**
 * The three one-device rings, in one Python process with Swift's own RingBuilder: what
 * `swift-ring-builder X.builder create 0 1 1`, `add r1z1-127.0.0.1:PORT/d1 1` and `rebalance` write
 * (swift/cli/ringbuilder.py), without nine interpreter starts (each imports eventlet; on a loaded
 * 2-core machine the nine took 10 s and more of every Swift start). The servers read only the
 * `.ring.gz` files.
 */
const BUILD_RINGS_PY = `
import sys
from swift.common.ring import RingBuilder
for arg in sys.argv[1:]:
    kind, port = arg.split('=')
    builder = RingBuilder(0, 1, 1)
    builder.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port), 'device': 'd1', 'weight': 1})
    builder.rebalance()
    builder.get_ring().save(kind + '.ring.gz')
`;

async function buildRings(etc: string, ports: { object: number; container: number; account: number }) {
  await run(
    swiftPython(),
    ['-c', BUILD_RINGS_PY, ...(['account', 'container', 'object'] as const).map((k) => `${k}=${ports[k]}`)],
    { cwd: etc, timeoutMs: 20_000 },
  );
}

export interface StartOptions {
  readonly timeoutMs?: number;
  /** see SWIFT_ACCESS_LOG_FIELDS */
  readonly accessLogUdpPort?: number;
  /** Each access log line led by its account (shared-swift.ts splits the log by account). */
  readonly accessLogByAccount?: boolean;
  /** Accounts t1…tN besides `test`, each with a tester and a reader (shared-swift.ts hands them out). */
  readonly accounts?: number;
  /** Processes of the proxy and the object server (Swift's `workers`). */
  readonly workers?: number;
}

export async function startSwift(opts: StartOptions = {}): Promise<SwiftS3> {
  if (!fs.existsSync('/etc/swift/swift.conf')) {
    // Written whole, then renamed: a server of a parallel test file never reads half a file.
    fs.mkdirSync('/etc/swift', { recursive: true });
    const tmp = `/etc/swift/swift.conf.${process.pid}`;
    fs.writeFileSync(tmp, SWIFT_CONF);
    fs.renameSync(tmp, '/etc/swift/swift.conf');
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= ATTEMPTS || !(err instanceof ExitedBeforeReady)) throw err;
    }
  }
}

async function startOnce(opts: StartOptions): Promise<SwiftS3> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-swift-'));
  const etc = path.join(dir, 'etc');
  const logs = path.join(dir, 'log');
  fs.mkdirSync(etc);
  fs.mkdirSync(path.join(dir, 'node', 'd1'), { recursive: true });
  const [proxy, memcached, object, container, account] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const procs: ManagedProcess[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(procs.map((p) => p.stop()));
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const endpoint = `http://127.0.0.1:${proxy}`;
  try {
    await buildRings(etc, { object, container, account });
    for (const [kind, port] of [
      ['object', object],
      ['container', container],
      ['account', account],
    ] as const) {
      fs.writeFileSync(
        path.join(etc, `${kind}-server.conf`),
        serverConf(kind, port, dir, kind === 'object' ? (opts.workers ?? 1) : 1),
      );
    }
    fs.writeFileSync(path.join(etc, 'proxy-server.conf'), proxyConf(proxy, memcached, dir, opts));

    const servers: [ManagedProcess, number][] = [
      [
        spawnManaged('memcached', 'memcached', ['-u', 'root', '-l', '127.0.0.1', '-p', String(memcached)], {
          logDir: logs,
        }),
        memcached,
      ],
    ];
    for (const [kind, port] of [
      ['object', object],
      ['container', container],
      ['account', account],
    ] as const) {
      const conf = path.join(etc, `${kind}-server.conf`);
      servers.push([spawnManaged(kind, `swift-${kind}-server`, [conf], { logDir: logs }), port]);
    }
    procs.push(...servers.map(([proc]) => proc));
    const proxyProc = spawnManaged('proxy', 'swift-proxy-server', [path.join(etc, 'proxy-server.conf')], {
      logDir: logs,
    });
    procs.push(proxyProc);
    const deadline = Date.now() + timeoutMs;
    for (const [proc, port] of servers) {
      await waitForTcp('127.0.0.1', port, Math.max(deadline - Date.now(), 1), proc);
    }
    await waitForHttp(`${endpoint}/info`, {
      timeoutMs: Math.max(deadline - Date.now(), 1),
      ready: (s) => s === 200,
      proc: proxyProc,
    });
  } catch (err) {
    await stop();
    throw err;
  }

  return swiftAccount({ endpoint, port: proxy, dir }, 'test', stop);
}

/** Where a running Swift is, as shared-swift.ts passes it between processes. */
export interface SwiftPlace {
  readonly endpoint: string;
  readonly port: number;
  readonly dir: string;
}

/**
 * A handle on one account of a running Swift: its clients and buckets are that account's (two
 * accounts may hold buckets of the same name). `stopServers` runs after its clients are destroyed.
 */
export function swiftAccount(place: SwiftPlace, account: string, stopServers: () => Promise<void>): SwiftS3 {
  const base: S3Endpoint = {
    endpoint: place.endpoint,
    accessKeyId: `${account}:tester`,
    secretAccessKey: 'testing',
    region: 'us-east-1',
  };
  const clients: S3Client[] = [];
  const client = (): S3Client => {
    const c = new S3Client({
      endpoint: place.endpoint,
      region: base.region,
      forcePathStyle: true,
      credentials: { accessKeyId: base.accessKeyId, secretAccessKey: base.secretAccessKey },
    });
    clients.push(c);
    return c;
  };
  let admin: S3Client | undefined;
  let stopped: Promise<void> | undefined;
  return {
    ...base,
    reader: { accessKeyId: `${account}:reader`, secretAccessKey: 'reading' },
    port: place.port,
    dir: place.dir,
    client,
    async createBucket(name: string): Promise<void> {
      admin ??= client();
      await admin.send(new CreateBucketCommand({ Bucket: name }), {
        abortSignal: AbortSignal.timeout(10_000),
      });
    },
    stop: () => {
      stopped ??= (async () => {
        for (const c of clients) c.destroy();
        await stopServers();
      })();
      return stopped;
    },
  };
}
