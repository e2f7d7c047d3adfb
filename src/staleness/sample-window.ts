/**
 * The samples of one series (say, replication lag from region A) observed in the last `windowMs`,
 * at most `maxSamples` of them: beyond that the oldest go first, so memory is bounded whatever the
 * traffic. Samples are stamped with the injected Clock when they are added (in time order), so
 * pruning only ever drops from the front.
 */
import type { Clock } from '../clock/clock';

export interface WindowBounds {
  readonly windowMs: number;
  readonly maxSamples: number;
}

export class SampleWindow {
  private at: number[] = [];
  private values: number[] = [];
  /** Index of the oldest live sample; the dead prefix is compacted away in batches. */
  private head = 0;

  constructor(
    private readonly clock: Clock,
    private readonly bounds: WindowBounds,
  ) {}

  add(value: number): void {
    this.at.push(this.clock.now());
    this.values.push(value);
    if (this.at.length - this.head > this.bounds.maxSamples) this.head++;
    this.compact();
  }

  /** The live samples, oldest first. */
  current(): number[] {
    this.prune();
    return this.values.slice(this.head);
  }

  get count(): number {
    this.prune();
    return this.at.length - this.head;
  }

  private prune(): void {
    const oldest = this.clock.now() - this.bounds.windowMs;
    while (this.head < this.at.length && (this.at[this.head] as number) <= oldest) this.head++;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.at.length) {
      this.at = this.at.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }
}
