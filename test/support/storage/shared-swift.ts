/**
 * One Swift for a whole jest run: started by the integration and end-to-end projects' global set-up
 * (test/support/global-setup.ts), and handed out one account per user, so that two test files'
 * buckets of the same name never meet. A Swift start is four Python servers importing Swift
 * (about 5 s of CPU), and some twenty files started one each; on 2 cores that was a sixth of the
 * suite's CPU.
 *
 * A file that needs Swift to itself (the proxy's access log counts every request it serves, and
 * the start itself is tested) calls startSwift, as does any process outside jest (the benchmark).
 */
import fs from 'node:fs';
import path from 'node:path';
import { startSwift, swiftAccount, type StartOptions, type SwiftPlace, type SwiftS3 } from './swift';

/** The environment variable that tells the test files where the shared Swift is (JSON SwiftPlace). */
const PLACE = 'GEOSYNC_TEST_SWIFT';
/** Accounts t1…tN: more than the users of one run (each file's stacks), never handed out twice. */
const ACCOUNTS = 200;

/** For the global set-up: starts the shared Swift and names it to the test files; returns its stop. */
export async function startSharedSwift(): Promise<() => Promise<void>> {
  // Two proxy and object processes: two files use it at once, each with its own storage deadlines.
  const swift = await startSwift({ accounts: ACCOUNTS, workers: 2 });
  fs.mkdirSync(path.join(swift.dir, 'claims'));
  const place: SwiftPlace = { endpoint: swift.endpoint, port: swift.port, dir: swift.dir };
  process.env[PLACE] = JSON.stringify(place);
  return () => swift.stop();
}

/**
 * An account of the run's shared Swift when there is one, or a Swift of its own. Its `stop`
 * leaves the shared servers running (the global teardown stops them) and its buckets in place
 * (the account is never handed out again).
 */
export async function testSwift(opts: StartOptions = {}): Promise<SwiftS3> {
  const shared = process.env[PLACE];
  if (shared === undefined || opts.accessLogUdpPort !== undefined) return startSwift(opts);
  const place = JSON.parse(shared) as SwiftPlace;
  for (let i = 1; i <= ACCOUNTS; i++) {
    try {
      // mkdir is atomic: of two files asking at once, one gets the account.
      fs.mkdirSync(path.join(place.dir, 'claims', String(i)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    return swiftAccount(place, `t${i}`, async () => {});
  }
  return startSwift(opts);
}
