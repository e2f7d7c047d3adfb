/**
 * The start-up look at one sibling's storage, outside lanes and breakers (a region that is down at
 * start must not be marked failed by it):
 * - warmUp: a HEAD of a key distribution never writes (its layout has only `repositories/` and
 *   `blobs/`), which opens the connection lookups will use and answers 404;
 * - checkStorage: the probe's own check of the storage (ObjectProbe.check).
 */
import { untilAborted } from '../abort/until-aborted';
import { WARM_UP_KEY } from '../storage/keys';
import type { ObjectProbe } from '../storage/probe';
import type { StorageProblem } from './locator';

export async function warmUp(probe: ObjectProbe, signal: AbortSignal): Promise<StorageProblem | undefined> {
  const head = await probe.head(WARM_UP_KEY, { signal });
  if (head.status !== 'error') return undefined;
  if (head.kind === 'denied') {
    // The warm-up key never exists: a storage that refuses to say so refuses every missing key
    // the same way, and lookups there can only ever answer "not there".
    return {
      region: probe.region,
      kind: 'misconfigured',
      problem: `its storage refuses to say whether a key exists (${head.message}); every miss there is refused the same way`,
    };
  }
  return {
    region: probe.region,
    kind: 'unreachable',
    problem:
      head.kind === 'aborted'
        ? 'its storage did not answer the warm-up in time'
        : `its storage answered the warm-up with ${head.kind}: ${head.message}`,
  };
}

/** Bounded by `signal` here too: a check that ignores its signal must not hold the caller. */
export async function checkStorage(
  probe: ObjectProbe,
  signal: AbortSignal,
): Promise<StorageProblem | undefined> {
  if (!probe.check) return undefined;
  const checked = probe.check({ signal }).catch((err: unknown) => `storage check failed: ${String(err)}`);
  const problem = await untilAborted(checked, signal, () => undefined);
  return problem === undefined ? undefined : { region: probe.region, kind: 'misconfigured', problem };
}
