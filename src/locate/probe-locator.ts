/**
 * Locator over ObjectProbes: asks every sibling region in parallel whether all keys of the
 * target exist and picks the most preferred region that holds them.
 */
import type { PullTarget } from '../oci/pull';
import { keysFor } from '../storage/keys';
import type { ObjectProbe, ProbeResult } from '../storage/probe';
import type { LocateResult, Locator } from './locator';

export interface RegionProbe {
  readonly region: string;
  readonly probe: ObjectProbe;
}

export type RegionAnswer =
  | { readonly status: 'found'; readonly lastModified: Date }
  | { readonly status: 'not_found' }
  | { readonly status: 'error'; readonly kind: string };

/** A region holds the target when every key is found; its age is that of the first key. */
export async function probeRegion(
  probe: ObjectProbe,
  keys: readonly string[],
  signal: AbortSignal,
): Promise<RegionAnswer> {
  const results: ProbeResult[] = await Promise.all(keys.map((k) => probe.head(k, { signal })));
  const error = results.find((r) => r.status === 'error');
  if (results.some((r) => r.status === 'not_found')) return { status: 'not_found' };
  if (error && error.status === 'error') return { status: 'error', kind: error.kind };
  const first = results[0];
  return first && first.status === 'found'
    ? { status: 'found', lastModified: first.lastModified }
    : { status: 'not_found' };
}

export class ProbeLocator implements Locator {
  constructor(
    /** Sibling regions in preference order (never this region). */
    private readonly siblings: readonly RegionProbe[],
    private readonly opts: { probeBlobData: boolean },
  ) {}

  async locate(target: PullTarget, signal: AbortSignal): Promise<LocateResult> {
    const keys = keysFor(target, this.opts);
    const answers = await Promise.all(this.siblings.map((s) => probeRegion(s.probe, keys, signal)));
    if (signal.aborted) return { outcome: 'timeout' };
    for (const [i, answer] of answers.entries()) {
      if (answer.status === 'found') {
        return {
          outcome: 'found',
          region: (this.siblings[i] as RegionProbe).region,
          lastModified: answer.lastModified,
        };
      }
    }
    const error = answers.find((a) => a.status === 'error');
    return error && error.status === 'error'
      ? { outcome: 'error', code: `probe_${error.kind}` }
      : { outcome: 'not_found' };
  }

  async close(): Promise<void> {
    await Promise.all(this.siblings.map((s) => s.probe.close()));
  }
}
