/**
 * One Swift for a whole jest run: started by the integration and end-to-end projects' global set-up
 * (test/support/global-setup.ts), and handed out one account per user, so that two test files'
 * buckets of the same name never meet. A Swift start is four Python servers importing Swift
 * (about 5 s of CPU), and some twenty files started one each; on 2 cores that was a sixth of the
 * suite's CPU.
 *
 * The proxy's access log (SWIFT_ACCESS_LOG_FIELDS) goes to a relay here, which passes each line,
 * without its account, to the UDP port the user of that account named: a file counting storage
 * requests sees its own and no other file's. The start itself is tested on a Swift of its own, as
 * is any process outside jest (the benchmark).
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { killManaged } from '../process';
import { startSwift, swiftAccount, type StartOptions, type SwiftPlace, type SwiftS3 } from './swift';

/** The environment variable that tells the test files where the shared Swift is (JSON SwiftPlace). */
const PLACE = 'GEOSYNC_TEST_SWIFT';
/** Accounts t1…tN: more than the users of one run (each file's stacks), never handed out twice. */
const ACCOUNTS = 200;
/** Where an account's user has its access log sent: `claims/<n>/access-log-port`. */
const claimDir = (dir: string, n: number) => path.join(dir, 'claims', String(n));
const portFile = (dir: string, n: number) => path.join(claimDir(dir, n), 'access-log-port');

/** For the global set-up: starts the shared Swift and names it to the test files; returns its stop. */
export async function startSharedSwift(): Promise<() => Promise<void>> {
  const relay = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.bind(0, '127.0.0.1', () => {
      relay.off('error', reject);
      resolve();
    });
  });
  // A send that fails (a user's socket already closed) is an 'error' event: without a listener
  // it would end jest's main process. The line is lost, as it would be on the user's own socket.
  relay.on('error', () => {});
  // A herd's log arrives in bursts; the kernel's default buffer would drop some of them.
  relay.setRecvBufferSize(8 * 1024 * 1024);
  const swift = await startSwift({
    accounts: ACCOUNTS,
    // Two proxy and object processes: two or three files use it at once, each with its deadlines.
    workers: 2,
    accessLogUdpPort: relay.address().port,
    accessLogByAccount: true,
  }).catch(async (err: unknown) => {
    relay.close();
    throw err;
  });
  fs.mkdirSync(path.join(swift.dir, 'claims'));
  // Each account's port, or null when its user asked for no log. An account's requests come only
  // after testSwift handed it out, and by then its port file is written (or will never be).
  const ports = new Map<number, number | null>();
  relay.on('message', (line) => {
    // `<134>proxy-server: AUTH_t3 HEAD /region-a/... 200 aws-sdk-js/...`; `-` for no account.
    const m = /^(<\d+>proxy-server: )AUTH_t(\d+) /.exec(line.toString('latin1'));
    if (!m) return;
    const n = Number(m[2]);
    if (!ports.has(n)) {
      const file = portFile(swift.dir, n);
      ports.set(n, fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : null);
    }
    const port = ports.get(n);
    if (port === null || port === undefined) return;
    relay.send(Buffer.concat([Buffer.from(m[1]!, 'latin1'), line.subarray(m[0].length)]), port, '127.0.0.1');
  });
  const place: SharedPlace = {
    endpoint: swift.endpoint,
    port: swift.port,
    dir: swift.dir,
    relayPort: relay.address().port,
  };
  process.env[PLACE] = JSON.stringify(place);
  // Interrupted (Ctrl-C, a CI deadline), jest's main process skips the teardown and Node's exit
  // hooks: Swift's process groups are killed and its folder removed here, then the signal takes
  // its course.
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => {
    const handler = () => {
      killManaged();
      fs.rmSync(swift.dir, { recursive: true, force: true });
      relay.close();
      process.kill(process.pid, signal);
    };
    process.once(signal, handler);
    return () => process.off(signal, handler);
  });
  return async () => {
    for (const off of handlers) off();
    await swift.stop();
    relay.close();
  };
}

interface SharedPlace extends SwiftPlace {
  /** The relay's UDP port: a datagram it dropped was one of some user's log lines. */
  readonly relayPort: number;
}

/** The port of the shared Swift's access log relay, when this process runs beside one. */
export function sharedSwiftRelayPort(): number | undefined {
  const shared = process.env[PLACE];
  return shared === undefined ? undefined : (JSON.parse(shared) as SharedPlace).relayPort;
}

/**
 * An account of the run's shared Swift when there is one, or a Swift of its own. With
 * `accessLogUdpPort`, that account's access log goes there. Its `stop` leaves the shared servers
 * running (the global teardown stops them) and its buckets in place (the account is never handed
 * out again).
 *
 * `own`: a Swift of its own all the same, for a file that floods storage on purpose (hundreds of
 * requests at once). On the shared one, every other file's requests would queue behind the flood:
 * a lookup of a sibling 250 ms away ran past its 2 s deadline there while the burst test ran
 * beside it.
 */
export async function testSwift(opts: StartOptions & { readonly own?: boolean } = {}): Promise<SwiftS3> {
  const shared = process.env[PLACE];
  const { own = false, ...start } = opts;
  if (shared === undefined || own) return startSwift(start);
  const place = JSON.parse(shared) as SharedPlace;
  for (let n = 1; n <= ACCOUNTS; n++) {
    try {
      // mkdir is atomic: of two files asking at once, one gets the account.
      fs.mkdirSync(claimDir(place.dir, n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    if (opts.accessLogUdpPort !== undefined) {
      // Written whole, then renamed: the relay never reads half a number.
      const tmp = `${portFile(place.dir, n)}.tmp`;
      fs.writeFileSync(tmp, String(opts.accessLogUdpPort));
      fs.renameSync(tmp, portFile(place.dir, n));
    }
    return swiftAccount(place, `t${n}`, async () => {});
  }
  return startSwift(start);
}
