/**
 * How long one region's storage takes to answer, and so how long a lookup waits for it. A fixed
 * deadline is wrong for every region but one: a sibling on another continent (150-250 ms per
 * request) was abandoned at a deadline set for a neighbour, every time, so nothing was ever learnt
 * and that region was never used.
 *
 * The estimator is TCP's retransmission timer (RFC 6298 section 2,
 * https://www.rfc-editor.org/rfc/rfc6298#section-2): a smoothed round trip SRTT and its mean
 * deviation RTTVAR, updated with alpha = 1/8 and beta = 1/4, and a deadline of SRTT + 4 * RTTVAR,
 * within the operator's bounds. The first sample R sets SRTT = R and RTTVAR = R / 2 (so a deadline
 * of 3R until more samples agree). Samples are the region's own service time: measured from the
 * moment the request left geosync (src/locate/region.ts), so a wait in geosync's own queue never
 * makes a region look slow.
 */
export interface DeadlineBounds {
  /** The shortest deadline (`lookupTimeoutMs`): what a near region gets. */
  readonly minMs: number;
  /** The longest (`lookupTimeoutMaxMs`): what a region that never answered gets at most. */
  readonly maxMs: number;
}

const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

export class RegionLatency {
  private srtt: number | undefined;
  private rttvar = 0;

  constructor(private readonly bounds: DeadlineBounds) {}

  /** One answer of the region's storage, `ms` after the request left this process. */
  sample(ms: number): void {
    const r = Math.max(0, ms);
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
      return;
    }
    this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - r);
    this.srtt = (1 - ALPHA) * this.srtt + ALPHA * r;
  }

  /** How long a lookup waits for this region's answer, once its request has left this process. */
  deadlineMs(): number {
    const { minMs, maxMs } = this.bounds;
    if (this.srtt === undefined) return minMs;
    return Math.min(maxMs, Math.max(minMs, Math.ceil(this.srtt + K * this.rttvar)));
  }
}
