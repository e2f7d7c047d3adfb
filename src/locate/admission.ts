/**
 * Load shedding: how many distinct lookups may run at once, learnt from what finishes within the
 * deadline (additive increase, multiplicative decrease, as TCP's congestion control does,
 * https://www.rfc-editor.org/rfc/rfc5681#section-3.1). A lookup over the limit is not started:
 * the caller answers "pass" at once, which costs no storage request and no deadline, instead of
 * joining a queue whose tail would only time out and slow the lookups ahead of it.
 * - A lookup decided before its deadline while the limit was in use raises the limit by one.
 * - A deadline that passed because of this side (blame.ts, 'local') halves it, at most once per
 *   deadline, so one wave of simultaneous timeouts counts once.
 * A region's own slowness changes nothing here: its breaker deals with it.
 *
 * Fairness: one client cannot fill the window. A flood of distinct random 404s (each a lookup
 * that no cache or coalescing absorbs) from one address would otherwise keep every place taken,
 * so that real rescues for everyone else are shed. A client (Envoy's downstream address, after
 * `xff_num_trusted_hops`) that already runs its share (an eighth of the limit, at least 4) may
 * start more only while less than half the window is in use: a flood from one address holds at
 * most half, and the other half stays for clients under their share. A flood from many addresses
 * (more than eight at their share) can still fill it; that is a denial of service to meet in front
 * of Envoy (rate limits), not here.
 */
import type { Clock } from '../clock/clock';
import type { Blame } from './blame';

export interface AdmissionLimits {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The default limits: start at half of what one region's probe cap allows, never below 4 running
 * lookups (a herd of one key is one lookup), never above the probe cap. Half, because a blob
 * lookup takes two of a region's probe slots (its link and its data): so many lookups at once
 * never overflow the cap. A quarter shed the tail of a first burst of 100 distinct new tags that
 * would all have been rescued; the whole cap turned half of a burst of blob lookups into
 * overflows, and 150 distinct lookups at once on Swift S3 opened both siblings' breakers.
 */
export function admissionFor(maxConcurrentProbesPerRegion: number): AdmissionLimits {
  const max = Math.max(4, maxConcurrentProbesPerRegion);
  return { initial: Math.max(4, Math.floor(max / 2)), min: 4, max };
}

export class LookupAdmission {
  private current: number;
  private running = 0;
  private lastCut = Number.NEGATIVE_INFINITY;
  /** Running lookups per client that has any (entries go when they reach 0). */
  private readonly byClient = new Map<string, number>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly deadlineMs: number,
    private readonly clock: Clock,
  ) {
    this.current = clamp(limits.initial, limits);
  }

  get limit(): number {
    return this.current;
  }

  /** How many lookups one client may run when half the window or more is in use. */
  get share(): number {
    return Math.max(4, Math.floor(this.current / 8));
  }

  /**
   * True when one more lookup may start now for `client` (undefined: not known); it must then
   * call finished() or release() exactly once, with the same client.
   */
  tryStart(client?: string): boolean {
    if (this.running >= this.current) return false;
    if (client !== undefined) {
      const mine = this.byClient.get(client) ?? 0;
      if (mine >= this.share && this.running * 2 >= this.current) return false;
      this.byClient.set(client, mine + 1);
    }
    this.running += 1;
    return true;
  }

  /** A started lookup ended without telling anything about the load (it failed). */
  release(client?: string): void {
    this.running = Math.max(0, this.running - 1);
    if (client === undefined) return;
    const mine = (this.byClient.get(client) ?? 0) - 1;
    if (mine > 0) this.byClient.set(client, mine);
    else this.byClient.delete(client);
  }

  /** `blame`: how the silence of regions was judged, undefined when none was silent. */
  finished(blame: Blame | undefined, client?: string): void {
    const wasInUse = this.running * 2 >= this.current;
    this.release(client);
    if (blame === undefined) {
      if (wasInUse) this.current = clamp(this.current + 1, this.limits);
    } else if (blame === 'local') {
      const now = this.clock.now();
      if (now - this.lastCut < this.deadlineMs) return;
      this.lastCut = now;
      this.current = clamp(Math.floor(this.current / 2), this.limits);
    }
  }
}

function clamp(n: number, l: AdmissionLimits): number {
  return Math.min(l.max, Math.max(l.min, n));
}
