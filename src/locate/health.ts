/**
 * Optional periodic health check of each sibling region's registry: `GET <url>/v2/`, the API
 * version check every distribution registry answers
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#determining-support).
 * Any HTTP answer below 500 (401 included: auth is on) means the registry serves; a connection
 * error, a timeout or a 5xx is a failure, and `unhealthyThreshold` failures in a row mark the region
 * down, so it is not chosen even when its storage still answers. One success marks it up again.
 */
import { untilAborted } from '../abort/until-aborted';
import type { Clock } from '../clock/clock';
import type { HealthCheckConfig } from '../config/types';

/** Resolves true when the registry at `url` serves; never rejects. */
export type HealthCheck = (url: string, signal: AbortSignal) => Promise<boolean>;

export const httpHealthCheck: HealthCheck = async (url, signal) => {
  try {
    const res = await fetch(`${url}/v2/`, { method: 'GET', redirect: 'manual', signal });
    await res.body?.cancel();
    return res.status < 500;
  } catch {
    return false;
  }
};

interface RegionState {
  readonly name: string;
  readonly url: string;
  up: boolean;
  failures: number;
}

export class RegistryHealth {
  private readonly regions = new Map<string, RegionState>();
  private cancelTimer: (() => void) | undefined;
  private running = false;
  private readonly inflight = new Set<AbortController>();

  constructor(
    regions: readonly { readonly name: string; readonly url: string }[],
    private readonly opts: Omit<HealthCheckConfig, 'enabled'>,
    private readonly clock: Clock,
    private readonly check: HealthCheck = httpHealthCheck,
    private readonly onChange: (region: string, up: boolean) => void = () => {},
  ) {
    for (const r of regions) this.regions.set(r.name, { name: r.name, url: r.url, up: true, failures: 0 });
  }

  /** Regions start up: a lookup before the first round must not lose every sibling. */
  isUp(region: string): boolean {
    return this.regions.get(region)?.up ?? true;
  }

  /** Checks at once, then every `intervalMs` until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = (): void => {
      void this.checkNow().finally(() => {
        if (this.running) this.cancelTimer = this.clock.setTimer(loop, this.opts.intervalMs);
      });
    };
    loop();
  }

  stop(): void {
    this.running = false;
    this.cancelTimer?.();
    for (const c of this.inflight) c.abort();
  }

  /** One round over every region, each bounded by `timeoutMs`. */
  async checkNow(): Promise<void> {
    await Promise.all([...this.regions.values()].map((r) => this.checkOne(r)));
  }

  private async checkOne(region: RegionState): Promise<void> {
    const controller = new AbortController();
    this.inflight.add(controller);
    const cancel = this.clock.setTimer(() => controller.abort(), this.opts.timeoutMs);
    const check = this.check(region.url, controller.signal).catch(() => false);
    const ok = await untilAborted(check, controller.signal, () => false);
    cancel();
    this.inflight.delete(controller);
    if (ok) {
      region.failures = 0;
      this.setUp(region, true);
    } else {
      region.failures += 1;
      if (region.failures >= this.opts.unhealthyThreshold) this.setUp(region, false);
    }
  }

  private setUp(region: RegionState, up: boolean): void {
    if (region.up === up) return;
    region.up = up;
    this.onChange(region.name, up);
  }
}
