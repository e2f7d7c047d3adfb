/**
 * A cap on HEAD requests in flight towards one region. Over the cap a probe is not queued (a
 * queued probe would answer after the lookup deadline anyway): the caller treats the region as
 * not holding the target, so the local 404 passes and memory stays bounded.
 */
export class ConcurrencyGate {
  private inflight = 0;

  constructor(
    private readonly limit: number,
    private readonly onChange: (n: number) => void = () => {},
  ) {}

  tryAcquire(n: number): boolean {
    if (this.inflight + n > this.limit) return false;
    this.inflight += n;
    this.onChange(this.inflight);
    return true;
  }

  release(n: number): void {
    this.inflight = Math.max(0, this.inflight - n);
    this.onChange(this.inflight);
  }
}
