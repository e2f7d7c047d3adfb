/**
 * Where a manifest pushed in this region came from: the earliest sibling whose storage held it
 * before the push, dated by the LastModified of that sibling's manifest revision link
 * (distribution's `_manifests/revisions/<algorithm>/<hex>/link`, src/storage/keys.ts), which the
 * sibling's registry wrote when the manifest was pushed there.
 *
 * Every sibling must answer: one that errs or does not answer in time might be the earliest, so
 * the answer is then `unknown` rather than a guess. Resolution is the storage's: S3 LastModified
 * has whole seconds, a filesystem's mtime milliseconds.
 */
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import type { RegionProbe } from '../locate/probe-locator';
import type { Digest } from '../oci/reference';
import { manifestRevisionLinkKey } from '../storage/keys';

export type Origin =
  | { readonly kind: 'arrival'; readonly sourceRegion: string; readonly originAt: number }
  | { readonly kind: 'origin' }
  | { readonly kind: 'unknown'; readonly reason: string };

export class OriginFinder {
  constructor(
    /** Sibling regions (never this one). */
    private readonly siblings: readonly RegionProbe[],
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {}

  /** Resolves (never rejects) within `timeoutMs`, or promptly after `signal` aborts. */
  async find(repository: string, digest: Digest, pushedAt: number, signal: AbortSignal): Promise<Origin> {
    const key = manifestRevisionLinkKey(repository, digest);
    const controller = new AbortController();
    const stopTimer = setDeadline(this.clock, () => controller.abort(), this.timeoutMs);
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) controller.abort();
    let answers;
    try {
      answers = await Promise.all(
        this.siblings.map(async (s) => ({
          region: s.region,
          result: await s.probe.head(key, { signal: controller.signal }),
        })),
      );
    } finally {
      stopTimer();
      signal.removeEventListener('abort', onAbort);
    }
    let earliest: { region: string; at: number } | undefined;
    for (const { region, result } of answers) {
      if (result.status === 'error') return { kind: 'unknown', reason: `${region}: ${result.kind}` };
      if (result.status !== 'found') continue;
      // A registry asked through its API gives no date: it might be the earliest.
      if (!result.lastModified) return { kind: 'unknown', reason: `${region}: undated` };
      const at = result.lastModified.getTime();
      // Written at or after this push: a copy of it (or a later, independent push), not its origin.
      if (at >= pushedAt) continue;
      if (!earliest || at < earliest.at) earliest = { region, at };
    }
    return earliest
      ? { kind: 'arrival', sourceRegion: earliest.region, originAt: earliest.at }
      : { kind: 'origin' };
  }
}
