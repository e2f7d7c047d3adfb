/**
 * The start-up look at one sibling's storage: a HEAD of a key distribution never writes (its
 * layout has only `repositories/` and `blobs/`), which opens the connection lookups will use and
 * answers 404, together with the probe's own check of the storage (ObjectProbe.check). Outside
 * lanes and breakers: a region that is down at start must not be marked failed by it.
 */
import { untilAborted } from '../abort/until-aborted';
import type { ObjectProbe } from '../storage/probe';
import type { StorageProblem } from './locator';

export const WARM_UP_KEY = '_geosync/warm-up';

export async function warmUp(probe: ObjectProbe, signal: AbortSignal): Promise<StorageProblem | undefined> {
  const [head, problem] = await Promise.all([
    probe.head(WARM_UP_KEY, { signal }),
    // Bounded here too: a check that ignores its signal must not hold the warm-up.
    check(probe, signal),
  ]);
  if (problem !== undefined) return { region: probe.region, kind: 'misconfigured', problem };
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

function check(probe: ObjectProbe, signal: AbortSignal): Promise<string | undefined> {
  if (!probe.check) return Promise.resolve(undefined);
  const checked = probe.check({ signal }).catch((err: unknown) => `storage check failed: ${String(err)}`);
  return untilAborted(checked, signal, () => undefined);
}
