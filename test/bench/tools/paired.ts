/**
 * An A/B measurement in one deployment: each item once on the "on" side and once on the "off"
 * side, alternating which goes first (so neither side always meets a warmer cache or a quieter
 * machine), and the ratios pair by pair (parts 7 and 8).
 */
import { pairedRatio, type PairedRatio } from './stats';

export interface PairedCase<N extends string> {
  readonly name: N;
  readonly onMs: number[];
  readonly offMs: number[];
  /** on / off, pair by pair: median and range. */
  readonly ratio: PairedRatio;
  /** Per pair: on − off (ms). */
  readonly addedMs: number[];
}

/** `time(side, item)` answers one request's milliseconds (and checks its answer itself). */
export async function measurePaired<N extends string, S, T>(
  name: N,
  items: readonly T[],
  sides: { readonly on: S; readonly off: S },
  time: (side: S, item: T) => Promise<number>,
): Promise<PairedCase<N>> {
  const onMs: number[] = [];
  const offMs: number[] = [];
  for (const [i, item] of items.entries()) {
    const order = i % 2 === 0 ? [sides.on, sides.off] : [sides.off, sides.on];
    for (const side of order) (side === sides.on ? onMs : offMs).push(await time(side, item));
  }
  return {
    name,
    onMs,
    offMs,
    ratio: pairedRatio(onMs, offMs),
    addedMs: onMs.map((on, i) => on - (offMs[i] as number)),
  };
}
